//! Several VirtualServices for one host on a gateway (`pilot/pkg/networking/core/
//! gateway.go` `buildGatewayHTTPRouteConfig`): "Routes are concatenated, then
//! `SortVHostRoutes` moves catch-alls last (stable)". A wildcard-host VirtualService
//! keeps its own vhost: vhosts are keyed by the exact intersected host.

use std::collections::BTreeMap;
use std::rc::Rc;

use switchyard_bytecode::ir::{EntryIr, HostPattern, VhostIr};

use super::lower::Lowered;

/// The routes gathered for one port, per host, in the order they were appended. A
/// VirtualService's lowered routes are shared between the hosts they serve and only
/// copied when the vhosts are built (moved when used once), so that a large
/// configuration is not held twice.
#[derive(Debug, Default)]
pub struct PortRoutes {
    hosts: BTreeMap<String, HostRoutes>,
}

/// One host's routes: those of each VirtualService, the VirtualServices already
/// appended, and whether a server asks for httpsRedirect.
type HostRoutes = (Vec<Rc<Vec<Lowered>>>, Vec<String>, bool);

impl PortRoutes {
    /// Appends the routes of VirtualService `vs_key` to `host` (once per
    /// VirtualService: two servers on one port binding it add nothing new).
    pub fn append(&mut self, host: &str, vs_key: &str, routes: &Rc<Vec<Lowered>>, https_redirect: bool) {
        let slot = self.hosts.entry(host.to_string()).or_default();
        slot.2 |= https_redirect;
        if slot.1.iter().any(|k| k == vs_key) {
            return;
        }
        slot.1.push(vs_key.to_string());
        slot.0.push(Rc::clone(routes));
    }

    /// A server host with `httpsRedirect` and no VirtualService still redirects.
    pub fn require_tls(&mut self, host: &str) {
        self.hosts.entry(host.to_string()).or_default().2 = true;
    }

    /// The vhosts; call it once every other holder of the shared routes is gone, so
    /// that routes used by one host are moved rather than copied.
    pub fn into_vhosts(self, redirect: impl Fn() -> EntryIr) -> Vec<VhostIr> {
        self.hosts
            .into_iter()
            .map(|(host, (routes, _, https_redirect))| {
                let routes = routes
                    .into_iter()
                    .flat_map(|shared| Rc::try_unwrap(shared).unwrap_or_else(|rc| (*rc).clone()));
                let (mut specific, catch_all): (Vec<Lowered>, Vec<Lowered>) =
                    routes.partition(|(_, all)| !all);
                specific.extend(catch_all);
                let mut entries: Vec<EntryIr> = Vec::new();
                // `tls.httpsRedirect`: "301 before any route" (Envoy `require_tls: ALL`).
                if https_redirect {
                    entries.push(redirect());
                }
                entries.extend(specific.into_iter().map(|(e, _)| e));
                VhostIr {
                    host: HostPattern::parse(&host),
                    fallback: false,
                    entries,
                }
            })
            .collect()
    }
}
