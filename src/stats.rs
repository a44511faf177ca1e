//! Latency histograms (HdrHistogram, microseconds, 3 significant digits) and their serialized
//! form: the summary a reader wants plus the full histogram (HdrHistogram V2, base64) so any
//! percentile can be recomputed from a saved run.

use anyhow::{Context, Result};
use base64::Engine;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use serde::{Deserialize, Serialize};

/// Longest latency the histogram can hold: 10 minutes in µs. Longer values saturate (counted, at the top).
const MAX_US: u64 = 600_000_000;

pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_US, 3).expect("valid histogram bounds")
}

/// A histogram as stored in result documents.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LatencySummary {
    pub unit: String,
    pub count: u64,
    pub min: u64,
    pub mean: f64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
    /// The whole histogram, HdrHistogram V2 encoding, base64.
    pub hdr_v2: String,
}

impl LatencySummary {
    pub fn from_histogram(h: &Histogram<u64>) -> LatencySummary {
        let mut bytes = Vec::new();
        V2Serializer::new()
            .serialize(h, &mut bytes)
            .expect("serializing to a Vec cannot fail");
        let q = |q: f64| {
            if h.is_empty() {
                0
            } else {
                h.value_at_quantile(q)
            }
        };
        LatencySummary {
            unit: "us".into(),
            count: h.len(),
            min: if h.is_empty() { 0 } else { h.min() },
            mean: if h.is_empty() { 0.0 } else { h.mean() },
            p50: q(0.5),
            p90: q(0.9),
            p99: q(0.99),
            p999: q(0.999),
            max: if h.is_empty() { 0 } else { h.max() },
            hdr_v2: base64::engine::general_purpose::STANDARD.encode(bytes),
        }
    }

    /// Decodes the full histogram back.
    pub fn histogram(&self) -> Result<Histogram<u64>> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&self.hdr_v2)
            .context("histogram is not base64")?;
        Deserializer::new()
            .deserialize(&mut bytes.as_slice())
            .map_err(|e| anyhow::anyhow!("histogram does not decode: {e:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_round_trips_the_full_histogram() {
        let mut h = new_histogram();
        for v in [100u64, 200, 300, 2_600, 2_700, 50_000] {
            h.record(v).unwrap();
        }
        let s = LatencySummary::from_histogram(&h);
        assert_eq!(s.count, 6);
        assert_eq!(s.histogram().unwrap(), h);
        let json = serde_json::to_string(&s).unwrap();
        let back: LatencySummary = serde_json::from_str(&json).unwrap();
        assert_eq!(
            back.histogram().unwrap().value_at_quantile(0.5),
            h.value_at_quantile(0.5)
        );
    }

    #[test]
    fn empty_histogram_summarizes_to_zeros() {
        let s = LatencySummary::from_histogram(&new_histogram());
        assert_eq!((s.count, s.p50, s.max), (0, 0, 0));
    }
}
