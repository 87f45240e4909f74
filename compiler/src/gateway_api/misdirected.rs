//! Which listener ports check requests for misdirection (Gateway API
//! `GatewayHTTPSListenerDetectMisdirectedRequests`; the rule is quoted in
//! `switchyard_bytecode`'s `eval/tls.rs`): "Gateways SHOULD match the authority of the
//! requests with all the SNI hostname(s) configured across all the Gateway Listeners on
//! the same port and protocol".
//!
//! A port checks when at least two HTTPS listeners with distinct hostnames share it
//! (the Gateway's own and its ListenerSets'). With one, a Host either belongs to that
//! listener or to none (404 by routing), and an SNI the listener does not serve fails
//! the TLS handshake before any request; so such ports are left unchecked, and their
//! programs need nothing beyond format 1.0.

use std::collections::BTreeMap;

use switchyard_bytecode::ir::HostPattern;

use super::attach::MergedListener;

/// Port -> the hostnames of its HTTPS listeners (`Any` for one without hostname), for
/// the ports that check.
pub fn https_listener_hosts(merged: &[&MergedListener<'_>]) -> BTreeMap<u32, Vec<HostPattern>> {
    let mut ports: BTreeMap<u32, Vec<HostPattern>> = BTreeMap::new();
    for m in merged.iter().filter(|m| m.listener.protocol == "HTTPS") {
        let host = HostPattern::parse(m.listener.hostname.as_deref().unwrap_or("*"));
        let hosts = ports.entry(m.listener.port).or_default();
        if !hosts.contains(&host) {
            hosts.push(host);
        }
    }
    ports.retain(|_, hosts| hosts.len() >= 2);
    for hosts in ports.values_mut() {
        hosts.sort();
    }
    ports
}
