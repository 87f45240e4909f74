//! Istio `ServiceEntry` (`networking/v1alpha3/service_entry.proto`): for routing, which
//! hosts it declares, on which ports, and to which namespaces it is exported. Istio
//! builds a cluster `outbound|<port>||<host>` per host and port, so a destination that
//! names such a host without a port takes the entry's port when it has only one
//! (`route.go` `GetDestinationCluster`), as it would a Kubernetes Service's. Endpoints,
//! resolution and location decide where the cluster's traffic goes, after routing.

use super::super::meta::Meta;
use super::super::read::{Obj, Read};
use super::{export_to, strings};

#[derive(Debug, Clone)]
pub struct ServiceEntry {
    pub meta: Meta,
    /// Lowercased; `*.example.com` wildcards allowed; short names resolve in the entry's
    /// namespace.
    pub hosts: Vec<String>,
    pub ports: Vec<EntryPort>,
    pub export_to: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryPort {
    pub number: u32,
    /// Upper-case, as Istio compares it; empty when unset.
    pub protocol: String,
}

impl EntryPort {
    /// Whether a sidecar carries HTTP on this port (so the plugin sees its requests):
    /// the HTTP protocols, or none declared (Istio then detects the protocol). TLS, TCP
    /// and the other protocols are proxied as bytes.
    pub fn carries_http(&self) -> bool {
        matches!(
            self.protocol.as_str(),
            "" | "HTTP" | "HTTP2" | "GRPC" | "GRPC-WEB"
        )
    }
}

impl ServiceEntry {
    pub fn read(root: &Obj<'_>, meta: Meta) -> Read<ServiceEntry> {
        let spec = root.require("spec")?;
        spec.check_keys(
            &[
                "hosts",
                "addresses",
                "ports",
                "location",
                "resolution",
                "endpoints",
                "workloadSelector",
                "exportTo",
                "subjectAltNames",
            ],
            &[],
        )?;
        let hosts: Vec<String> = strings(&spec, "hosts")?
            .into_iter()
            .map(|h| h.to_ascii_lowercase())
            .collect();
        if hosts.is_empty() {
            return Err(spec.error("a ServiceEntry needs `hosts`"));
        }
        let mut ports = Vec::new();
        for port in spec.list("ports")? {
            port.check_keys(&["number", "name", "protocol", "targetPort"], &[])?;
            let number = port
                .int("number", 1, 65535)?
                .ok_or_else(|| port.error("a ServiceEntry port needs `number`"))?;
            ports.push(EntryPort {
                number: number as u32,
                protocol: port.str("protocol")?.unwrap_or("").to_ascii_uppercase(),
            });
        }
        Ok(ServiceEntry {
            meta,
            hosts,
            ports,
            export_to: export_to(&spec)?,
        })
    }

    /// Whether the entry declares `fqdn` (exactly, or under a `*.` wildcard host).
    pub fn declares(&self, fqdn: &str, domain: &str) -> bool {
        self.hosts.iter().any(|host| {
            let host = crate::istio::destination::resolve_host(host, &self.meta.namespace, domain);
            match host.strip_prefix('*') {
                Some(suffix) => fqdn.len() > suffix.len() && fqdn.ends_with(suffix),
                None => host == fqdn,
            }
        })
    }
}
