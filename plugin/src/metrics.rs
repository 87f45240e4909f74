//! Per-rule hit counters, so operators see which rules route traffic (in Envoy's
//! `/stats/prometheus`, under Envoy's `wasmcustom` prefix).
//!
//! A counter is defined the first time its rule wins, not at configure time: a program
//! with 100 000 rules must not create 100 000 metrics up front, and most rules of a large
//! table may never be hit on a given proxy.

use proxy_wasm::hostcalls::{define_metric, increment_metric};
use proxy_wasm::types::MetricType;
use switchyard_bytecode::Program;

/// Counter ids by entry; `u32::MAX` is "not defined yet", `u32::MAX - 1` "could not be
/// defined" (never retried, so a host without metrics costs one call per rule).
#[derive(Debug, Default)]
pub struct RuleCounters {
    ids: Vec<u32>,
}

const UNDEFINED: u32 = u32::MAX;
const UNAVAILABLE: u32 = u32::MAX - 1;

impl RuleCounters {
    pub fn for_program(program: &Program) -> Self {
        RuleCounters {
            ids: vec![UNDEFINED; program.entry_count() as usize],
        }
    }

    /// Counts one hit of `entry`.
    pub fn hit(&mut self, program: &Program, entry: u32) {
        let Some(slot) = self.ids.get_mut(entry as usize) else {
            return;
        };
        if *slot == UNDEFINED {
            *slot = define_metric(MetricType::Counter, &counter_name(program, entry)).unwrap_or(UNAVAILABLE);
        }
        if *slot != UNAVAILABLE {
            // A failed increment only loses a count; routing must not depend on it.
            let _ = increment_metric(*slot, 1);
        }
    }
}

/// `switchyard_rule_hits.<kind>.<namespace>.<name>.rule_<r>.match_<m>`: dots separate the
/// parts Envoy's stat tag extraction and Prometheus naming work on.
pub fn counter_name(program: &Program, entry: u32) -> String {
    let source = program.source(entry);
    format!(
        "switchyard_rule_hits.{}.{}.{}.rule_{}.match_{}",
        source.kind.as_str().to_ascii_lowercase(),
        source.namespace,
        source.name,
        source.rule,
        source.match_index
    )
}
