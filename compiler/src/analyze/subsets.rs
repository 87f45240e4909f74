//! Istio destinations naming a subset no DestinationRule defines. Istio still routes
//! them, to a cluster (`outbound|PORT|SUBSET|HOST`) that does not exist, so Envoy
//! answers 503 (`NC`, no cluster).

use super::finding::{self, Finding, Place};
use crate::diag::Location;
use crate::istio::destination::resolve_host;
use crate::resources::Resources;
use crate::resources::istio::RuleAction;

/// Whether DestinationRule host `pattern` (resolved) covers `host`.
fn host_covers(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix('*') {
        Some(suffix) => host.ends_with(suffix) && host.len() > suffix.len(),
        None => pattern == host,
    }
}

/// One finding per destination with an undefined subset.
pub fn undefined_subsets(resources: &Resources, domain: &str, out: &mut Vec<Finding>) {
    for vs in &resources.virtual_services {
        for (i, rule) in vs.http.iter().enumerate() {
            let RuleAction::Route(destinations) = &rule.action else {
                continue;
            };
            for (j, d) in destinations.iter().enumerate() {
                let Some(subset) = &d.destination.subset else {
                    continue;
                };
                let host = resolve_host(&d.destination.host, &vs.meta.namespace, domain);
                let rules: Vec<_> = resources
                    .destination_rules
                    .iter()
                    .filter(|dr| host_covers(&resolve_host(&dr.host, &dr.meta.namespace, domain), &host))
                    .collect();
                if rules
                    .iter()
                    .any(|dr| dr.subsets.iter().any(|s| &s.name == subset))
                {
                    continue;
                }
                let known = if rules.is_empty() {
                    "no DestinationRule has this host".to_string()
                } else {
                    rules
                        .iter()
                        .map(|dr| {
                            let names: Vec<&str> = dr.subsets.iter().map(|s| s.name.as_str()).collect();
                            format!("DestinationRule {} defines [{}]", dr.meta.key(), names.join(", "))
                        })
                        .collect::<Vec<_>>()
                        .join("; ")
                };
                let message = format!(
                    "VirtualService {} spec.http[{i}].route[{j}]: subset {subset:?} of {host} is not defined \
                     ({known}); Istio sends these requests to a cluster that does not exist (503)",
                    vs.meta.key()
                );
                let place = Place::new(
                    Some(Location {
                        file: vs.meta.file.clone(),
                        line: if rule.line > 0 { rule.line } else { vs.meta.line },
                        column: 0,
                    }),
                    format!("VirtualService {} rule {i}", vs.meta.key()),
                );
                out.push(Finding::new(finding::DANGLING, "istio", message, place));
            }
        }
    }
}
