//! Istio `DestinationRule` (`networking/v1alpha3/destination_rule.proto`): for routing,
//! only which subsets exist matters (a subset changes the cluster name; its labels
//! filter endpoints, which Switchyard does not see), and which rule a proxy applies to a
//! host (`crate::istio::destination_rule`).

use super::super::meta::Meta;
use super::super::read::{Obj, Read};
use super::export_to;

#[derive(Debug, Clone)]
pub struct DestinationRule {
    pub meta: Meta,
    /// Lowercased, as written (short names resolve in the rule's namespace).
    pub host: String,
    pub subsets: Vec<Subset>,
    pub export_to: Vec<String>,
    /// `workloadSelector.matchLabels`: the rule applies only to proxies with these
    /// labels (and is private to its namespace); `None` without a selector.
    pub workload_selector: Option<Vec<(String, String)>>,
}

#[derive(Debug, Clone)]
pub struct Subset {
    pub name: String,
    pub labels: Vec<(String, String)>,
}

impl DestinationRule {
    pub fn read(root: &Obj<'_>, meta: Meta) -> Read<DestinationRule> {
        let spec = root.require("spec")?;
        // `trafficPolicy` (load balancing, connection pools, TLS, outlier detection)
        // acts after the cluster is chosen, so it is accepted and not read.
        spec.check_keys(
            &["host", "subsets", "exportTo", "trafficPolicy", "workloadSelector"],
            &[],
        )?;
        let mut subsets = Vec::new();
        for subset in spec.list("subsets")? {
            subset.check_keys(&["name", "labels", "trafficPolicy"], &[])?;
            subsets.push(Subset {
                name: subset.req_str("name")?.to_string(),
                labels: subset.string_map("labels")?,
            });
        }
        let workload_selector = match spec.get("workloadSelector") {
            Some(selector) => {
                selector.check_keys(&["matchLabels"], &[])?;
                Some(selector.string_map("matchLabels")?)
            }
            None => None,
        };
        Ok(DestinationRule {
            meta,
            host: spec.req_str("host")?.to_ascii_lowercase(),
            subsets,
            export_to: export_to(&spec)?,
            workload_selector,
        })
    }
}
