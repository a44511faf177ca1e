//! Joins the server's query log to the probe's lookups (by the lookup id in the first label)
//! and derives what each lookup really did on the wire: its ordered queries, the round trips
//! on its critical path, and the latency those round trips predict.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::result::LookupRecord;
use crate::server::log::QueryLogEntry;

/// Full query lists are kept for this many lookups per cell; the server log keeps the rest.
const EXAMPLES: usize = 3;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TracedQuery {
    /// The name with the lookup label replaced by `<id>`, so patterns compare across lookups.
    pub qname: String,
    pub qtype: String,
    pub transport: String,
    pub server: String,
    pub rcode: String,
    pub answers: u16,
    pub truncated: bool,
    /// Offsets from the lookup's start (µs): when the server got the query and answered it.
    pub sent_at_us: f64,
    pub answered_at_us: f64,
    pub delay_us: f64,
    pub round: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LookupTrace {
    pub id: String,
    pub queries: u32,
    pub rounds: u32,
    /// Queries for names other than the one that answered with records (all, if none did):
    /// the search-list walk's cost.
    pub wasted: u32,
    /// Queries that got no answer (injected loss, a dead server).
    pub unanswered: u32,
    /// Did A and AAAA for the same name overlap in time (the second reached the server before
    /// the first was answered), for most names both were asked for? (Most, not all: at a
    /// 0.2 ms injected delay one late second query can land after the first answer.)
    /// None: never both asked.
    pub a_aaaa_overlap: Option<bool>,
    /// The names asked, in first-asked order (lookup label replaced by `<id>`).
    pub candidates: Vec<String>,
    /// Sum over rounds of the longest delay the server injected in that round.
    pub predicted_us: f64,
    pub measured_us: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CellTrace {
    pub lookups: u64,
    /// Lookups for which the server saw no query at all (answered locally, or lost).
    pub untraced: u64,
    pub queries_total: u64,
    pub queries_mean: f64,
    pub queries_max: u32,
    pub rounds_mean: f64,
    /// Share of all queries that were wasted (see LookupTrace::wasted).
    pub wasted_share: f64,
    pub unanswered_total: u64,
    /// Share of lookups whose A and AAAA overlapped (of those that asked both for some name).
    pub a_aaaa_overlap_share: Option<f64>,
    pub predicted_p50_us: f64,
    /// measured p50 / predicted p50: 1.0 means all the time went to injected delay.
    pub measured_over_predicted: f64,
    /// The most common ordered query list ("A <id>.example.test.") and how many lookups had it.
    pub pattern: Vec<String>,
    pub pattern_share: f64,
    pub per_lookup: Vec<LookupTrace>,
    pub examples: BTreeMap<String, Vec<TracedQuery>>,
}

pub fn trace_cell(lookups: &[LookupRecord], log: &[QueryLogEntry]) -> CellTrace {
    let mut by_id: HashMap<&str, Vec<&QueryLogEntry>> = HashMap::new();
    let mut unlabelled = Vec::new();
    for entry in log {
        match &entry.lookup {
            Some(id) => by_id.entry(id.as_str()).or_default().push(entry),
            None => unlabelled.push(entry),
        }
    }
    let mut per_lookup = Vec::with_capacity(lookups.len());
    let mut examples = BTreeMap::new();
    let mut patterns: HashMap<Vec<String>, u64> = HashMap::new();
    for lookup in lookups {
        // A name without a lookup id (a fixed name) joins by time: one probe, one lookup at a time.
        let mut queries = by_id.get(lookup.id.as_str()).cloned().unwrap_or_else(|| {
            unlabelled
                .iter()
                .filter(|e| (lookup.start_ns..=lookup.end_ns).contains(&e.recv_ns))
                .copied()
                .collect()
        });
        queries.sort_by_key(|q| q.recv_ns);
        let traced = trace_queries(lookup, &queries);
        let rounds = traced.last().map_or(0, |q| q.round);
        let predicted_us = (1..=rounds)
            .map(|r| {
                traced
                    .iter()
                    .filter(|q| q.round == r)
                    .map(|q| q.delay_us)
                    .fold(0.0, f64::max)
            })
            .sum();
        *patterns
            .entry(
                traced
                    .iter()
                    .map(|q| format!("{} {}", q.qtype, q.qname))
                    .collect(),
            )
            .or_default() += 1;
        per_lookup.push(LookupTrace {
            id: lookup.id.clone(),
            queries: traced.len() as u32,
            rounds,
            wasted: wasted(&traced),
            unanswered: traced.iter().filter(|q| q.rcode == "none").count() as u32,
            a_aaaa_overlap: a_aaaa_overlap(&traced),
            candidates: candidates(&traced),
            predicted_us,
            measured_us: (lookup.end_ns - lookup.start_ns) as f64 / 1e3,
        });
        if examples.len() < EXAMPLES {
            examples.insert(lookup.id.clone(), traced);
        }
    }
    summarize(per_lookup, examples, patterns)
}

/// Numbers the queries' rounds: a query opens a new round when it reached the server after the
/// first answer of the current round was due (received + injected delay), i.e. the client may
/// have waited for that answer. The due time, not the logged send time, because the sender
/// thread can be descheduled past the due time (once in ~200 lookups on a busy 2-core VM,
/// a dependent query was logged 0.16 ms before the late answer's send time).
/// At zero injected delay two "parallel" queries can look sequential: rounds need a delay.
fn trace_queries(lookup: &LookupRecord, queries: &[&QueryLogEntry]) -> Vec<TracedQuery> {
    let mut round = 0;
    let mut first_answer_due = u64::MAX;
    let offset = |ns: u64| (ns as f64 - lookup.start_ns as f64) / 1e3;
    queries
        .iter()
        .map(|q| {
            if round == 0 || q.recv_ns >= first_answer_due {
                round += 1;
                first_answer_due = u64::MAX;
            }
            if q.dropped.is_none() {
                let due = q.recv_ns + (q.delay_target_us * 1e3) as u64;
                first_answer_due = first_answer_due.min(due);
            }
            TracedQuery {
                qname: q.qname.replacen(&lookup.id, "<id>", 1),
                qtype: q.qtype.clone(),
                transport: q.transport.clone(),
                server: q.server.clone(),
                rcode: q.rcode.clone(),
                answers: q.answers,
                truncated: q.truncated,
                sent_at_us: offset(q.recv_ns),
                answered_at_us: offset(q.send_ns),
                delay_us: q.delay_target_us,
                round,
            }
        })
        .collect()
}

fn wasted(traced: &[TracedQuery]) -> u32 {
    let answered = traced
        .iter()
        .find(|q| q.answers > 0)
        .map(|q| q.qname.as_str());
    traced
        .iter()
        .filter(|q| Some(q.qname.as_str()) != answered)
        .count() as u32
}

fn candidates(traced: &[TracedQuery]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for q in traced {
        if !names.contains(&q.qname) {
            names.push(q.qname.clone());
        }
    }
    names
}

/// For the names asked both A and AAAA (first of each): did [sent, answered] overlap for most?
fn a_aaaa_overlap(traced: &[TracedQuery]) -> Option<bool> {
    let mut verdicts = Vec::new();
    for name in candidates(traced) {
        let first = |t: &str| traced.iter().find(|q| q.qname == name && q.qtype == t);
        if let (Some(a), Some(aaaa)) = (first("A"), first("AAAA")) {
            let (early, late) = if a.sent_at_us <= aaaa.sent_at_us {
                (a, aaaa)
            } else {
                (aaaa, a)
            };
            verdicts.push(late.sent_at_us < early.answered_at_us);
        }
    }
    let overlapped = verdicts.iter().filter(|v| **v).count();
    (!verdicts.is_empty()).then_some(overlapped * 2 > verdicts.len())
}

fn summarize(
    per_lookup: Vec<LookupTrace>,
    examples: BTreeMap<String, Vec<TracedQuery>>,
    patterns: HashMap<Vec<String>, u64>,
) -> CellTrace {
    let n = per_lookup.len() as u64;
    let mean = |f: fn(&LookupTrace) -> f64| {
        if n == 0 {
            0.0
        } else {
            per_lookup.iter().map(f).sum::<f64>() / n as f64
        }
    };
    let queries_total = per_lookup.iter().map(|l| u64::from(l.queries)).sum();
    let (pattern, count) = patterns
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
        .unwrap_or_default();
    let predicted_p50_us = median(per_lookup.iter().map(|l| l.predicted_us).collect());
    let measured_p50_us = median(per_lookup.iter().map(|l| l.measured_us).collect());
    CellTrace {
        lookups: n,
        untraced: per_lookup.iter().filter(|l| l.queries == 0).count() as u64,
        queries_total,
        queries_mean: mean(|l| f64::from(l.queries)),
        queries_max: per_lookup.iter().map(|l| l.queries).max().unwrap_or(0),
        rounds_mean: mean(|l| f64::from(l.rounds)),
        wasted_share: if queries_total == 0 {
            0.0
        } else {
            per_lookup.iter().map(|l| u64::from(l.wasted)).sum::<u64>() as f64
                / queries_total as f64
        },
        unanswered_total: per_lookup.iter().map(|l| u64::from(l.unanswered)).sum(),
        a_aaaa_overlap_share: {
            let both: Vec<bool> = per_lookup.iter().filter_map(|l| l.a_aaaa_overlap).collect();
            (!both.is_empty())
                .then(|| both.iter().filter(|v| **v).count() as f64 / both.len() as f64)
        },
        predicted_p50_us,
        measured_over_predicted: if predicted_p50_us > 0.0 {
            measured_p50_us / predicted_p50_us
        } else {
            0.0
        },
        pattern,
        pattern_share: if n == 0 { 0.0 } else { count as f64 / n as f64 },
        per_lookup,
        examples,
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(id: &str, name: &str, qtype: &str, recv_us: u64, send_us: u64) -> QueryLogEntry {
        QueryLogEntry {
            server: "ns1".into(),
            transport: "udp".into(),
            client: "c".into(),
            id: 1,
            qname: format!("{id}.{name}"),
            qtype: qtype.into(),
            lookup: Some(id.into()),
            edns_payload: None,
            rcode: "NOERROR".into(),
            answers: if name.ends_with("svc.") { 0 } else { 1 },
            truncated: false,
            dropped: None,
            recv_ns: recv_us * 1000,
            send_ns: send_us * 1000,
            delay_target_us: (send_us - recv_us) as f64,
            delay_applied_us: (send_us - recv_us) as f64,
        }
    }

    #[test]
    fn parallel_pairs_share_a_round_and_sequential_queries_do_not() {
        let lookup = LookupRecord {
            id: "lk-c1-aa-0".into(),
            start_ns: 0,
            end_ns: 2_500_000,
            outcome: "ok".into(),
            addresses: 2,
        };
        let log = vec![
            // round 1: A and AAAA together (0.2 ms)
            q("lk-c1-aa-0", "example.test.svc.", "A", 10, 210),
            q("lk-c1-aa-0", "example.test.svc.", "AAAA", 12, 212),
            // round 2: after the answers, A then (round 3) AAAA after A's answer (2 ms each)
            q("lk-c1-aa-0", "example.test.", "A", 220, 2220),
            q("lk-c1-aa-0", "example.test.", "AAAA", 2230, 4230),
            q("other", "example.test.", "A", 0, 1),
        ];
        let t = trace_cell(&[lookup], &log);
        assert_eq!(t.queries_total, 4);
        assert_eq!(t.per_lookup[0].rounds, 3);
        assert!((t.per_lookup[0].predicted_us - 4200.0).abs() < 1e-6);
        assert_eq!(t.pattern[0], "A <id>.example.test.svc.");
        assert_eq!(t.pattern_share, 1.0);
        assert_eq!(t.untraced, 0);
        // The first name answered nothing: its 2 queries were wasted; the answer came from the second.
        assert_eq!(t.per_lookup[0].wasted, 2);
        assert_eq!(t.wasted_share, 0.5);
        // Overlap on the first name only, one of two: not most.
        assert_eq!(t.per_lookup[0].a_aaaa_overlap, Some(false));
        assert_eq!(
            t.per_lookup[0].candidates,
            ["<id>.example.test.svc.", "<id>.example.test."]
        );
    }
}
