//! Which DestinationRule a proxy applies to a destination host, as Istio chooses it, and
//! so which subsets (and subset clusters `outbound|PORT|SUBSET|FQDN`) exist there.
//!
//! Istio (`pilot/pkg/model/push_context.go`):
//! - `setDestinationRules` sorts rules with a workload selector first, then by creation
//!   time, name and namespace, resolves each host in the rule's namespace, and indexes
//!   each rule (a) among the rules local to its namespace when it is exported there
//!   (no `exportTo`, `*`, `.` or its own namespace), and (b) among the rules its
//!   namespace exports to others unless it is private (`exportTo` exactly `.` or its own
//!   namespace; a rule with a workload selector is always private), or, when private and
//!   in the root namespace, among the root namespace's local rules. Rules for the same
//!   host in one index are merged (`mergeDestinationRule`, enhanced merge: only rules
//!   with equal `exportTo`): the later rule's subsets are added unless a subset of that
//!   name exists.
//! - `destinationRule(proxyNamespace, service)` looks, for the service's hostname, in
//!   the proxy namespace's local rules (or, for a proxy in the root namespace, the root
//!   namespace's private ones), then the rules the service's namespace exports to the
//!   proxy's, then the rules the root namespace exports to it. In each index the exact
//!   host wins over the most specific wildcard (`MostSpecificHostMatch`: the longest
//!   `*.suffix` the host ends with; `*` matches every host).
//! - `SidecarScope.DestinationRule`: of the rules found, one whose workload selector
//!   matches the proxy's labels, else the last one without a selector.
//!
//! Cluster Discovery then builds subset clusters from that rule only, so a route to a
//! subset it does not define names a cluster Envoy does not have: 503.

use std::collections::BTreeMap;

use crate::resources::Resources;
use crate::resources::istio::{Destination, DestinationRule};

use super::destination::{resolve_host, service_name};
use super::lower::Proxy;

/// Istio's default root (config) namespace (`MeshConfig.rootNamespace`).
pub const ROOT_NAMESPACE: &str = "istio-system";

/// The rule a proxy applies to a host: one DestinationRule, or several merged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedRule {
    /// The resolved host the rule was written for (`reviews.default.svc.cluster.local`,
    /// `*.example.com`).
    pub host: String,
    /// `namespace/name` of each rule merged into it, in merge order.
    pub from: Vec<String>,
    pub subsets: Vec<String>,
    export_to: Vec<String>,
    selector: Option<Vec<(String, String)>>,
}

/// Rules per resolved host, split into exact and wildcard hosts.
#[derive(Debug, Default)]
struct HostIndex {
    rules: BTreeMap<String, Vec<AppliedRule>>,
}

impl HostIndex {
    /// `mergeDestinationRule` with enhanced merge.
    fn add(&mut self, rule: AppliedRule) {
        let list = self.rules.entry(rule.host.clone()).or_default();
        let mut separately = true;
        for existing in list.iter_mut() {
            if rule.export_to == existing.export_to {
                separately = false;
            } else if existing.export_to.is_empty()
                || !existing.export_to.iter().all(|e| rule.export_to.contains(e))
            {
                continue;
            }
            match (&rule.selector, &existing.selector) {
                (Some(a), Some(b)) if !same_labels(a, b) => {
                    separately = true;
                    continue;
                }
                (None, None) | (Some(_), Some(_)) => separately = false,
                _ => {}
            }
            existing.from.extend(rule.from.iter().cloned());
            for subset in &rule.subsets {
                if !existing.subsets.contains(subset) {
                    existing.subsets.push(subset.clone());
                }
            }
        }
        if separately {
            list.push(rule);
        }
    }

    /// `MostSpecificHostMatch`: the exact host, else the longest wildcard it ends with.
    fn most_specific(&self, host: &str) -> Option<&[AppliedRule]> {
        if let Some(rules) = self.rules.get(host) {
            return Some(rules);
        }
        self.rules
            .iter()
            .filter_map(|(key, rules)| key.strip_prefix('*').map(|suffix| (suffix, rules)))
            .filter(|(suffix, _)| host.ends_with(suffix))
            .max_by_key(|(suffix, _)| suffix.len())
            .map(|(_, rules)| rules.as_slice())
    }
}

fn same_labels(a: &[(String, String)], b: &[(String, String)]) -> bool {
    a.len() == b.len() && a.iter().all(|l| b.contains(l))
}

/// Every DestinationRule, indexed as Istio indexes them.
#[derive(Debug, Default)]
pub struct DestinationRules {
    local: BTreeMap<String, HostIndex>,
    exported: BTreeMap<String, HostIndex>,
    root_local: HostIndex,
    /// ServiceEntries (sorted by namespace/name): the namespace of the entry declaring a
    /// host is that "service's" namespace in the lookup order.
    entries: Vec<crate::resources::istio::ServiceEntry>,
    cluster_domain: String,
}

impl DestinationRules {
    pub fn new(resources: &Resources, cluster_domain: &str) -> Self {
        let mut rules: Vec<&DestinationRule> = resources.destination_rules.iter().collect();
        rules.sort_by(|a, b| {
            let key = |r: &DestinationRule| {
                (
                    r.workload_selector.is_none(),
                    r.meta.creation_timestamp.clone(),
                    r.meta.name.clone(),
                    r.meta.namespace.clone(),
                )
            };
            key(a).cmp(&key(b))
        });
        let mut index = DestinationRules {
            entries: resources.service_entries.clone(),
            cluster_domain: cluster_domain.to_string(),
            ..DestinationRules::default()
        };
        for rule in rules {
            let namespace = &rule.meta.namespace;
            // A rule with a workload selector is never exported.
            let export_to = if rule.workload_selector.is_some() {
                vec![".".to_string()]
            } else {
                rule.export_to.clone()
            };
            let applied = AppliedRule {
                host: resolve_host(&rule.host, namespace, cluster_domain),
                from: vec![rule.meta.key()],
                subsets: rule.subsets.iter().map(|s| s.name.clone()).collect(),
                export_to: export_to.clone(),
                selector: rule.workload_selector.clone(),
            };
            let here =
                export_to.is_empty() || export_to.iter().any(|e| e == "*" || e == "." || e == namespace);
            if here {
                index
                    .local
                    .entry(namespace.clone())
                    .or_default()
                    .add(applied.clone());
            }
            let private = export_to.len() == 1 && (export_to[0] == "." || &export_to[0] == namespace);
            if !private {
                index.exported.entry(namespace.clone()).or_default().add(applied);
            } else if namespace == ROOT_NAMESPACE {
                index.root_local.add(applied);
            }
        }
        index
    }

    /// The rule a proxy in `proxy_namespace` with `labels` (`None`: not known, so no
    /// workload selector matches) applies to `host`, a service of `service_namespace`
    /// (`None` for hosts that are not Kubernetes Services).
    pub fn applied(
        &self,
        host: &str,
        proxy_namespace: &str,
        service_namespace: Option<&str>,
        labels: Option<&[(String, String)]>,
    ) -> Option<&AppliedRule> {
        let found = self.found(host, proxy_namespace, service_namespace)?;
        let mut catch_all = None;
        for rule in found {
            match &rule.selector {
                None => catch_all = Some(rule),
                // Selector rules are private, so any found here live in the proxy's
                // namespace.
                Some(selector) => {
                    if labels.is_some_and(|labels| selector.iter().all(|l| labels.contains(l))) {
                        return Some(rule);
                    }
                }
            }
        }
        catch_all
    }

    /// The namespace of the service `fqdn` names, seen from a proxy in `proxy_namespace`:
    /// a Kubernetes Service's, else that of the first ServiceEntry visible to the proxy
    /// that declares the host; `None` for a host nothing declares.
    fn service_namespace<'s>(&'s self, fqdn: &'s str, proxy_namespace: &str) -> Option<&'s str> {
        service_name(fqdn, &self.cluster_domain)
            .map(|(ns, _)| ns)
            .or_else(|| {
                self.entries
                    .iter()
                    .find(|e| {
                        crate::resources::istio::visible(&e.export_to, &e.meta.namespace, proxy_namespace)
                            && e.declares(fqdn, &self.cluster_domain)
                    })
                    .map(|e| e.meta.namespace.as_str())
            })
    }

    /// Why `destination`, written in a VirtualService of `namespace`, names a subset
    /// cluster `proxy` does not have; `None` when it names no subset or the applied rule
    /// defines it.
    pub fn missing_subset(
        &self,
        destination: &Destination,
        namespace: &str,
        proxy: &Proxy,
        cluster_domain: &str,
    ) -> Option<String> {
        let subset = destination.subset.as_deref().filter(|s| !s.is_empty())?;
        let fqdn = resolve_host(&destination.host, namespace, cluster_domain);
        let service_namespace = self.service_namespace(&fqdn, &proxy.namespace);
        // A sidecar's labels are not known: no workload selector matches them.
        let labels = (proxy.gateway != "mesh").then_some(proxy.labels.as_slice());
        match self.applied(&fqdn, &proxy.namespace, service_namespace, labels) {
            None => Some(format!(
                "subset {subset}: no DestinationRule for {fqdn} applies to the proxy in namespace {}, so Envoy has no cluster for the subset and answers 503",
                proxy.namespace
            )),
            Some(rule) if !rule.subsets.iter().any(|s| s == subset) => Some(format!(
                "subset {subset} is not defined by DestinationRule {} (host {}), the rule the proxy in namespace {} applies to {fqdn}; Envoy has no cluster for the subset and answers 503",
                rule.from.join(" + "),
                rule.host,
                proxy.namespace
            )),
            Some(_) => None,
        }
    }

    /// `PushContext.destinationRule`: every rule of the first index that has one for
    /// `host`.
    fn found(
        &self,
        host: &str,
        proxy_namespace: &str,
        service_namespace: Option<&str>,
    ) -> Option<Vec<&AppliedRule>> {
        let local = if proxy_namespace == ROOT_NAMESPACE {
            Some(&self.root_local)
        } else {
            self.local.get(proxy_namespace)
        };
        if let Some(rules) = local.and_then(|i| i.most_specific(host)) {
            return Some(rules.iter().collect());
        }
        for namespace in service_namespace.into_iter().chain([ROOT_NAMESPACE]) {
            let exported: Vec<&AppliedRule> = self
                .exported
                .get(namespace)
                .and_then(|i| i.most_specific(host))
                .unwrap_or_default()
                .iter()
                .filter(|r| {
                    r.export_to.is_empty() || r.export_to.iter().any(|e| e == "*" || e == proxy_namespace)
                })
                .collect();
            if !exported.is_empty() {
                return Some(exported);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::load_texts;

    const DOMAIN: &str = "cluster.local";

    fn rules(yaml: &str) -> DestinationRules {
        let documents = load_texts(&[("<test>".to_string(), yaml.to_string())]).unwrap();
        let (resources, diagnostics) = Resources::from_documents(&documents);
        assert!(!diagnostics.has_errors(), "{diagnostics:?}");
        DestinationRules::new(&resources, DOMAIN)
    }

    fn dr(namespace: &str, name: &str, host: &str, subsets: &[&str], extra: &str) -> String {
        let subsets: Vec<String> = subsets.iter().map(|s| format!("{{name: {s}}}")).collect();
        format!(
            "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {{name: {name}, namespace: {namespace}}}\nspec:\n  host: \"{host}\"\n  subsets: [{}]\n{extra}---\n",
            subsets.join(", ")
        )
    }

    const REVIEWS: &str = "reviews.default.svc.cluster.local";

    fn applied(index: &DestinationRules, proxy: &str) -> Option<Vec<String>> {
        index
            .applied(REVIEWS, proxy, Some("default"), Some(&[]))
            .map(|r| r.from.clone())
    }

    #[test]
    fn exact_host_beats_every_wildcard() {
        let index = rules(&format!(
            "{}{}{}",
            dr("default", "wild", "*.svc.cluster.local", &["w"], ""),
            dr("default", "exact", "reviews", &["v1"], ""),
            dr("default", "wilder", "*.cluster.local", &["x"], ""),
        ));
        assert_eq!(
            applied(&index, "default"),
            Some(vec!["default/exact".to_string()])
        );
    }

    #[test]
    fn the_longest_matching_wildcard_wins() {
        let index = rules(&format!(
            "{}{}{}",
            dr("default", "short", "*.local", &["a"], ""),
            dr("default", "long", "*.default.svc.cluster.local", &["b"], ""),
            dr("default", "other", "*.prod.svc.cluster.local", &["c"], ""),
        ));
        assert_eq!(applied(&index, "default"), Some(vec!["default/long".to_string()]));
    }

    #[test]
    fn the_proxy_namespace_comes_before_the_service_namespace_and_the_root() {
        let yaml = format!(
            "{}{}{}",
            dr(
                "client",
                "in-client",
                "reviews.default.svc.cluster.local",
                &["c"],
                ""
            ),
            dr("default", "in-service", "reviews", &["s"], ""),
            dr(
                ROOT_NAMESPACE,
                "in-root",
                "reviews.default.svc.cluster.local",
                &["r"],
                ""
            ),
        );
        let index = rules(&yaml);
        assert_eq!(
            applied(&index, "client"),
            Some(vec!["client/in-client".to_string()])
        );
        assert_eq!(
            applied(&index, "elsewhere"),
            Some(vec!["default/in-service".to_string()])
        );
    }

    #[test]
    fn a_wildcard_in_the_proxy_namespace_beats_an_exact_host_elsewhere() {
        let index = rules(&format!(
            "{}{}",
            dr("client", "wild", "*.cluster.local", &["w"], ""),
            dr("default", "exact", "reviews", &["v1"], ""),
        ));
        assert_eq!(applied(&index, "client"), Some(vec!["client/wild".to_string()]));
    }

    #[test]
    fn the_root_namespace_is_the_last_resort() {
        let index = rules(&dr(ROOT_NAMESPACE, "mesh-wide", "*.local", &["r"], ""));
        assert_eq!(
            applied(&index, "client"),
            Some(vec![format!("{ROOT_NAMESPACE}/mesh-wide")])
        );
    }

    #[test]
    fn export_to_hides_a_rule_from_other_namespaces() {
        let index = rules(&format!(
            "{}{}",
            dr("default", "private", "reviews", &["p"], "  exportTo: [\".\"]\n"),
            dr("default", "to-team", "ratings", &["t"], "  exportTo: [team]\n"),
        ));
        assert_eq!(
            applied(&index, "default"),
            Some(vec!["default/private".to_string()])
        );
        assert_eq!(applied(&index, "client"), None);
        let ratings = "ratings.default.svc.cluster.local";
        assert!(index.applied(ratings, "team", Some("default"), None).is_some());
        assert!(index.applied(ratings, "client", Some("default"), None).is_none());
    }

    #[test]
    fn an_exported_rule_not_visible_to_the_proxy_falls_through_to_the_root() {
        let index = rules(&format!(
            "{}{}",
            dr("default", "to-team", "reviews", &["t"], "  exportTo: [team]\n"),
            dr(
                ROOT_NAMESPACE,
                "mesh-wide",
                "reviews.default.svc.cluster.local",
                &["r"],
                ""
            ),
        ));
        assert_eq!(
            applied(&index, "client"),
            Some(vec![format!("{ROOT_NAMESPACE}/mesh-wide")])
        );
    }

    #[test]
    fn a_private_root_rule_applies_only_to_proxies_in_the_root_namespace() {
        let index = rules(&dr(
            ROOT_NAMESPACE,
            "gw-only",
            "*.local",
            &["g"],
            "  exportTo: [\".\"]\n",
        ));
        assert!(
            index
                .applied(REVIEWS, ROOT_NAMESPACE, Some("default"), None)
                .is_some()
        );
        assert!(index.applied(REVIEWS, "client", Some("default"), None).is_none());
    }

    #[test]
    fn rules_for_one_host_in_one_namespace_merge_their_subsets_oldest_first() {
        let index = rules(&format!(
            "{}{}",
            dr("default", "b-second", "reviews", &["v2", "v1"], ""),
            dr("default", "a-first", "reviews", &["v1", "v3"], ""),
        ));
        let rule = index.applied(REVIEWS, "default", Some("default"), None).unwrap();
        assert_eq!(rule.from, ["default/a-first", "default/b-second"]);
        assert_eq!(rule.subsets, ["v1", "v3", "v2"]);
    }

    #[test]
    fn rules_with_different_export_to_stay_apart() {
        let index = rules(&format!(
            "{}{}",
            dr("default", "a-public", "reviews", &["v1"], ""),
            dr("default", "b-team", "reviews", &["v2"], "  exportTo: [team]\n"),
        ));
        let client = index.applied(REVIEWS, "client", Some("default"), None).unwrap();
        assert_eq!(client.subsets, ["v1"]);
    }

    #[test]
    fn a_workload_selector_rule_applies_to_matching_proxies_of_its_namespace_only() {
        let selector = "  workloadSelector: {matchLabels: {app: gateway}}\n";
        let index = rules(&format!(
            "{}{}",
            dr("default", "all", "reviews", &["v1"], ""),
            dr("default", "gw", "reviews", &["v2"], selector),
        ));
        let labels = [
            ("app".to_string(), "gateway".to_string()),
            ("x".to_string(), "y".to_string()),
        ];
        let gw = index
            .applied(REVIEWS, "default", Some("default"), Some(&labels))
            .unwrap();
        assert_eq!(gw.from, ["default/gw"]);
        let other = index
            .applied(REVIEWS, "default", Some("default"), Some(&[]))
            .unwrap();
        assert_eq!(other.from, ["default/all"]);
        // Unknown labels (a sidecar target): no selector matches.
        let unknown = index.applied(REVIEWS, "default", Some("default"), None).unwrap();
        assert_eq!(unknown.from, ["default/all"]);
        // Never exported: a proxy elsewhere sees only the other rule.
        let elsewhere = index
            .applied(REVIEWS, "client", Some("default"), Some(&labels))
            .unwrap();
        assert_eq!(elsewhere.from, ["default/all"]);
    }
}
