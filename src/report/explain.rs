//! `explain`: one lookup per cell as a timeline a teacher can put on a slide (which query went
//! out when, what came back, where the time went), and verdicts on the motivating article's
//! DNS claims, each computed from the traces of the run (never from a table of beliefs).

use std::fmt::Write;

use crate::result::{CellResult, Mode, Resolver, RunResult};

const WIDTH: f64 = 48.0;

pub fn render(run: &RunResult) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "profile {} | scenario {} | resolv.conf:",
        run.profile.name, run.scenario.name
    );
    for line in run.profile.resolv_conf.lines() {
        let _ = writeln!(o, "    {line}");
    }
    // One time axis for every cell, so the timelines compare side by side.
    let span_us = run
        .cells
        .iter()
        .filter_map(|c| c.trace.per_lookup.first())
        .map(|l| l.measured_us)
        .fold(1.0, f64::max);
    for c in &run.cells {
        let _ = writeln!(o);
        o.push_str(&timeline(c, span_us));
    }
    let effects = render_option_effects(run);
    if !effects.is_empty() {
        let _ = writeln!(o, "\nresolv.conf options, judged from the wire:\n{effects}");
    }
    let _ = writeln!(
        o,
        "\nVerdicts on the article's DNS claims (from this run's traces):"
    );
    o.push_str(&verdict_table(&verdicts(run)));
    o
}

fn timeline(c: &CellResult, span_us: f64) -> String {
    let p = &c.probe;
    let mut o = String::new();
    let Some(lookup) = c.trace.per_lookup.first() else {
        return format!(
            "{} {} {}: no lookup\n",
            c.image.reference,
            p.cell.resolver.as_str(),
            p.cell.mode.as_str()
        );
    };
    let outcome = p.lookups.first().map_or("?", |l| l.outcome.as_str());
    let _ = writeln!(
        o,
        "{} ({} {}, {} probe) | {} {} | {:.2} ms, {} queries, {} rounds, {} wasted | {outcome}",
        c.image.reference,
        p.environment.libc.family,
        p.environment.libc.version,
        p.probe.flavour,
        p.cell.resolver.as_str(),
        p.cell.mode.as_str(),
        lookup.measured_us / 1000.0,
        lookup.queries,
        lookup.rounds,
        lookup.wasted,
    );
    let queries = c
        .trace
        .examples
        .get(&lookup.id)
        .cloned()
        .unwrap_or_default();
    let name_width = queries
        .iter()
        .map(|q| q.qname.len())
        .max()
        .unwrap_or(4)
        .min(48);
    let col = |us: f64| ((us.max(0.0) / span_us) * WIDTH).round() as usize;
    let _ = writeln!(
        o,
        "  {:<2} {:<5} {:<name_width$} |{:<w$}| {:>8.2} ms",
        "rd",
        "type",
        "name",
        "0",
        span_us / 1000.0,
        w = WIDTH as usize
    );
    for q in &queries {
        let (start, end) = (
            col(q.sent_at_us),
            col(q.answered_at_us).max(col(q.sent_at_us) + 1),
        );
        let bar: String = (0..WIDTH as usize)
            .map(|i| if i >= start && i < end { '=' } else { ' ' })
            .collect();
        let answer = if q.rcode == "none" {
            "no answer".to_string()
        } else {
            q.rcode.clone()
        };
        let via = if q.transport == "tcp" { " tcp" } else { "" };
        let tc = if q.truncated { " TC" } else { "" };
        let name: String = q.qname.chars().take(name_width).collect();
        let _ = writeln!(
            o,
            "  {:<2} {:<5} {:<name_width$} |{bar}| {answer}{tc}{via} {:.2}-{:.2} ms{}",
            q.round,
            q.qtype,
            name,
            q.sent_at_us / 1000.0,
            q.answered_at_us / 1000.0,
            if q.server != "ns1" {
                format!(" ({})", q.server)
            } else {
                String::new()
            }
        );
    }
    o
}

#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    pub claim: &'static str,
    pub verdict: String,
    pub evidence: String,
}

fn cells_where(run: &RunResult, f: impl Fn(&CellResult) -> bool) -> Vec<&CellResult> {
    run.cells.iter().filter(|c| f(c)).collect()
}

fn label(c: &CellResult) -> String {
    format!(
        "{} {} {}/{}",
        c.image.reference.rsplit('/').next().unwrap_or_default(),
        c.probe.environment.libc.family,
        c.probe.cell.resolver.as_str(),
        c.probe.cell.mode.as_str()
    )
}

/// Verdicts on the claims (shared/notes/article-claims.md), from the run's traces.
pub fn verdicts(run: &RunResult) -> Vec<Verdict> {
    let system_parallel = |libc: &'static str| {
        move |c: &CellResult| {
            c.probe.cell.resolver == Resolver::System
                && c.probe.cell.mode == Mode::Parallel
                && c.probe.environment.libc.family == libc
        }
    };
    let mut out = Vec::new();

    // Claim 1: the search list is walked before the name itself.
    let search_first: Vec<String> = run
        .cells
        .iter()
        .filter(|c| c.trace.per_lookup.first().is_some_and(|l| l.queries > 0))
        .map(|c| {
            let l = &c.trace.per_lookup[0];
            format!(
                "{}: {} of {} queries before the answering name",
                label(c),
                l.wasted,
                l.queries
            )
        })
        .collect();
    let walked = run.cells.iter().all(|c| c.trace.wasted_share > 0.0);
    out.push(Verdict {
        claim: "1. With ndots:5 a lookup of an external name first walks every search domain",
        verdict: judge(
            !run.cells.is_empty(),
            walked,
            "confirmed, for every resolver measured",
            "refuted for some cells",
        ),
        evidence: search_first
            .first()
            .cloned()
            .unwrap_or_else(|| "no cell traced".into()),
    });

    // Claim 2a: musl walks the search domains one after another.
    let musl = cells_where(run, system_parallel("musl"));
    let sequential_walk = |c: &&CellResult| {
        c.trace
            .per_lookup
            .iter()
            .all(|l| l.rounds as usize >= l.candidates.len())
    };
    out.push(Verdict {
        claim: "2a. musl walks the search domains one after another",
        verdict: judge(
            !musl.is_empty(),
            musl.iter().all(sequential_walk),
            "confirmed (and so do glibc and hickory: one candidate name per round)",
            "refuted",
        ),
        evidence: musl
            .first()
            .map(|c| {
                format!(
                    "{}: {:.1} rounds for {} names",
                    label(c),
                    c.trace.rounds_mean,
                    c.trace.per_lookup[0].candidates.len()
                )
            })
            .unwrap_or_else(|| "needs a musl image, system resolver, parallel mode".into()),
    });

    // Claim 2b: musl sends A and AAAA sequentially.
    // Parallel when A and AAAA overlapped in most lookups of every such cell. Not "all": at
    // sub-millisecond injected delays one late AAAA can land after the A's answer.
    let overlap = |cells: &[&CellResult]| {
        cells
            .iter()
            .all(|c| c.trace.a_aaaa_overlap_share.is_some_and(|s| s >= 0.5))
    };
    out.push(Verdict {
        claim: "2b. musl sends A and AAAA sequentially",
        verdict: judge(
            !musl.is_empty(),
            !overlap(&musl),
            "confirmed",
            "REFUTED: musl's getaddrinfo sends AAAA before A is answered, for every name",
        ),
        evidence: overlap_evidence(&musl),
    });

    // Claim 3: glibc (and an in-process resolver, as Go's) send A and AAAA in parallel.
    let glibc = cells_where(run, system_parallel("glibc"));
    out.push(Verdict {
        claim: "3a. glibc sends A and AAAA in parallel",
        verdict: judge(!glibc.is_empty(), overlap(&glibc), "confirmed", "refuted"),
        evidence: overlap_evidence(&glibc),
    });
    let hickory = cells_where(run, |c| {
        c.probe.cell.resolver == Resolver::Hickory && c.probe.cell.mode == Mode::Parallel
    });
    out.push(Verdict {
        claim: "3b. an in-process resolver (hickory here; Go's is not measured) sends them in parallel",
        verdict: judge(!hickory.is_empty(), overlap(&hickory), "confirmed", "refuted"),
        evidence: overlap_evidence(&hickory),
    });

    // Claim 4: a static binary is hurt the same way (it carries musl's resolver).
    let static_musl = cells_where(run, |c| {
        c.probe.probe.flavour == "musl-static" && c.probe.cell.resolver == Resolver::System
    });
    let same = static_musl.iter().all(|s| {
        musl.iter()
            .filter(|m| m.probe.cell.mode == s.probe.cell.mode)
            .all(|m| m.trace.pattern == s.trace.pattern)
    });
    out.push(Verdict {
        claim: "4. a fully static binary is hurt by the same DNS behaviour",
        verdict: judge(
            !static_musl.is_empty() && !musl.is_empty(),
            same,
            "confirmed for Rust: a static musl binary carries musl's resolver (same queries as dynamic musl)",
            "refuted: the static build sends other queries",
        ),
        evidence: static_musl
            .first()
            .map(|c| format!("{}: {:.1} queries, {:.1} rounds per lookup", label(c), c.trace.queries_mean, c.trace.rounds_mean))
            .unwrap_or_else(|| "needs distroless static (static probe) and alpine".into()),
    });
    out
}

fn judge(measured: bool, holds: bool, yes: &str, no: &str) -> String {
    match (measured, holds) {
        (false, _) => "not measured".into(),
        (true, true) => yes.into(),
        (true, false) => no.into(),
    }
}

fn overlap_evidence(cells: &[&CellResult]) -> String {
    let Some(c) = cells.first() else {
        return "not in this run".into();
    };
    let example = c.trace.examples.values().next().and_then(|qs| {
        let a = qs.iter().find(|q| q.qtype == "A")?;
        let aaaa = qs
            .iter()
            .find(|q| q.qtype == "AAAA" && q.qname == a.qname)?;
        Some(format!(
            "; A sent at {:.2} ms, answered {:.2}; AAAA sent at {:.2}",
            a.sent_at_us / 1000.0,
            a.answered_at_us / 1000.0,
            aaaa.sent_at_us / 1000.0
        ))
    });
    let least = cells
        .iter()
        .map(|c| c.trace.a_aaaa_overlap_share.unwrap_or(0.0))
        .fold(1.0, f64::min);
    format!(
        "{}: A/AAAA overlapped in {:.0}% of lookups (least of {} such cells: {:.0}%){}",
        label(c),
        c.trace.a_aaaa_overlap_share.unwrap_or(0.0) * 100.0,
        cells.len(),
        least * 100.0,
        example.unwrap_or_default()
    )
}

fn verdict_table(verdicts: &[Verdict]) -> String {
    let mut o = String::new();
    for v in verdicts {
        let _ = writeln!(
            o,
            "  {}\n      verdict:  {}\n      evidence: {}",
            v.claim, v.verdict, v.evidence
        );
    }
    o
}

/// Profile options with a signature on the wire, and whether each cell's resolver honoured
/// them, judged from the trace: use-vc (every query over TCP), single-request and
/// single-request-reopen (A and AAAA never overlap).
pub fn option_effects(run: &RunResult) -> Vec<(String, String, bool)> {
    let options: Vec<String> = run
        .profile
        .resolv_conf
        .lines()
        .filter_map(|l| l.strip_prefix("options "))
        .flat_map(|l| l.split_whitespace().map(str::to_string))
        .collect();
    let mut out = Vec::new();
    for c in &run.cells {
        let queries: Vec<_> = c.trace.examples.values().flatten().collect();
        for o in &options {
            let honoured = match o.as_str() {
                "use-vc" => !queries.is_empty() && queries.iter().all(|q| q.transport == "tcp"),
                "single-request" | "single-request-reopen" => {
                    c.trace.a_aaaa_overlap_share == Some(0.0)
                }
                _ => continue,
            };
            out.push((label(c), o.clone(), honoured));
        }
    }
    out
}

pub fn render_option_effects(run: &RunResult) -> String {
    let mut o = String::new();
    for (cell, option, honoured) in option_effects(run) {
        let _ = writeln!(
            o,
            "  {option:<22} {:<9} by {cell}",
            if honoured { "honoured" } else { "IGNORED" }
        );
    }
    o
}
