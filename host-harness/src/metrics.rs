//! Guest-defined metrics, with the status codes Envoy returns
//! (`Context::{define,increment,record,get}Metric` in Envoy's `context.cc`).

use crate::abi::{metric, status};
use crate::types::{Metric, MetricKind};

#[derive(Debug, Default)]
pub struct Metrics {
    /// Metric id `n` lives at index `n - 1`, so id 0 is never handed out.
    slots: Vec<Metric>,
}

impl Metrics {
    /// Defining the same name and kind twice yields the same id, as Envoy
    /// resolves both to one stat.
    pub fn define(&mut self, raw_kind: u32, name: String) -> Result<u32, u32> {
        let kind = match raw_kind {
            metric::COUNTER => MetricKind::Counter,
            metric::GAUGE => MetricKind::Gauge,
            metric::HISTOGRAM => MetricKind::Histogram,
            _ => return Err(status::BAD_ARGUMENT),
        };
        let index = match self.slots.iter().position(|m| m.name == name && m.kind == kind) {
            Some(index) => index,
            None => {
                self.slots.push(Metric {
                    name,
                    kind,
                    value: 0,
                    samples: Vec::new(),
                });
                self.slots.len() - 1
            }
        };
        u32::try_from(index + 1).map_err(|_| status::BAD_ARGUMENT)
    }

    fn slot(&mut self, id: u32) -> Result<&mut Metric, u32> {
        let index = (id as usize).checked_sub(1).ok_or(status::NOT_FOUND)?;
        self.slots.get_mut(index).ok_or(status::NOT_FOUND)
    }

    /// Counters only go up; gauges move either way; histograms refuse.
    pub fn increment(&mut self, id: u32, offset: i64) -> u32 {
        let slot = match self.slot(id) {
            Ok(slot) => slot,
            Err(code) => return code,
        };
        match slot.kind {
            MetricKind::Counter if offset > 0 => {
                slot.value = slot.value.wrapping_add(offset.unsigned_abs());
                status::OK
            }
            MetricKind::Gauge if offset >= 0 => {
                slot.value = slot.value.wrapping_add(offset.unsigned_abs());
                status::OK
            }
            // Envoy gauges are unsigned and wrap on underflow.
            MetricKind::Gauge => {
                slot.value = slot.value.wrapping_sub(offset.unsigned_abs());
                status::OK
            }
            MetricKind::Counter | MetricKind::Histogram => status::BAD_ARGUMENT,
        }
    }

    /// Counters add, gauges are set, histograms record a sample.
    pub fn record(&mut self, id: u32, value: u64) -> u32 {
        let slot = match self.slot(id) {
            Ok(slot) => slot,
            Err(code) => return code,
        };
        match slot.kind {
            MetricKind::Counter => slot.value = slot.value.wrapping_add(value),
            MetricKind::Gauge => slot.value = value,
            MetricKind::Histogram => {
                slot.samples.push(value);
                slot.value = slot.samples.len() as u64;
            }
        }
        status::OK
    }

    /// Histograms cannot be read back (Envoy returns BAD_ARGUMENT).
    pub fn get(&mut self, id: u32) -> Result<u64, u32> {
        let slot = self.slot(id)?;
        match slot.kind {
            MetricKind::Histogram => Err(status::BAD_ARGUMENT),
            MetricKind::Counter | MetricKind::Gauge => Ok(slot.value),
        }
    }

    pub fn snapshot(&self) -> Vec<Metric> {
        self.slots.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_rules() {
        let mut m = Metrics::default();
        let id = m.define(metric::COUNTER, "hits".into()).unwrap();
        assert_eq!(m.define(metric::COUNTER, "hits".into()), Ok(id));
        assert_eq!(m.increment(id, 2), status::OK);
        assert_eq!(m.increment(id, 0), status::BAD_ARGUMENT);
        assert_eq!(m.increment(id, -1), status::BAD_ARGUMENT);
        assert_eq!(m.record(id, 3), status::OK);
        assert_eq!(m.get(id), Ok(5));
        assert_eq!(m.get(id + 7), Err(status::NOT_FOUND));
        assert_eq!(m.get(0), Err(status::NOT_FOUND));
    }

    #[test]
    fn gauge_and_histogram_rules() {
        let mut m = Metrics::default();
        let g = m.define(metric::GAUGE, "level".into()).unwrap();
        let h = m.define(metric::HISTOGRAM, "latency".into()).unwrap();
        assert_ne!(g, h);
        assert_eq!(m.increment(g, 5), status::OK);
        assert_eq!(m.increment(g, -2), status::OK);
        assert_eq!(m.get(g), Ok(3));
        assert_eq!(m.record(g, 10), status::OK);
        assert_eq!(m.get(g), Ok(10));
        assert_eq!(m.record(h, 7), status::OK);
        assert_eq!(m.record(h, 9), status::OK);
        assert_eq!(m.increment(h, 1), status::BAD_ARGUMENT);
        assert_eq!(m.get(h), Err(status::BAD_ARGUMENT));
        let snap = m.snapshot();
        assert_eq!(snap[1].samples, vec![7, 9]);
        assert_eq!(snap[1].value, 2);
        assert_eq!(m.define(9, "bad".into()), Err(status::BAD_ARGUMENT));
    }
}
