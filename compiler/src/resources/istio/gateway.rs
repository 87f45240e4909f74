//! Istio `Gateway` (`networking/v1alpha3/gateway.proto`): the servers a gateway proxy
//! opens, selected by `selector`.

use super::super::meta::Meta;
use super::super::read::{Obj, Read};
use super::strings;

#[derive(Debug, Clone)]
pub struct IstioGateway {
    pub meta: Meta,
    /// `spec.selector`: the labels of the proxy pods. Gateways with the same selector
    /// are served by the same proxy.
    pub selector: Vec<(String, String)>,
    pub servers: Vec<Server>,
}

#[derive(Debug, Clone)]
pub struct Server {
    pub port: u32,
    /// Upper-cased: `HTTP`, `HTTPS`, `HTTP2`, `GRPC`, `TLS`, `TCP`, ...
    pub protocol: String,
    pub port_name: String,
    pub hosts: Vec<ServerHost>,
    /// `tls.httpsRedirect`: "send a 301 redirect for all http connections, asking the
    /// clients to use HTTPS".
    pub https_redirect: bool,
    /// `tls.mode` (`SIMPLE` when unset).
    pub tls_mode: Option<String>,
    pub line: u32,
}

/// A server host `[namespace/]dnsName`: "`namespace` ... `*` (any namespace), `.` (the
/// Gateway's namespace) or a namespace name"; default `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHost {
    pub namespace: String,
    /// Lowercase; `*`, `*.suffix` or a name.
    pub host: String,
}

impl ServerHost {
    pub fn parse(text: &str) -> ServerHost {
        let (namespace, host) = match text.split_once('/') {
            Some((ns, host)) => (ns, host),
            None => ("*", text),
        };
        ServerHost {
            namespace: namespace.to_string(),
            host: host.to_ascii_lowercase(),
        }
    }

    /// Whether a VirtualService in `vs_namespace` may bind through this host
    /// (`gateway_namespace` stands for `.`).
    pub fn admits(&self, vs_namespace: &str, gateway_namespace: &str) -> bool {
        match self.namespace.as_str() {
            "*" => true,
            "." => vs_namespace == gateway_namespace,
            ns => vs_namespace == ns,
        }
    }
}

impl Server {
    /// "`HTTP|HTTPS|GRPC|GRPC-WEB|HTTP2|MONGO|TCP|TLS`": HTTP routes are served on the
    /// HTTP-ish protocols and on HTTPS servers that terminate TLS (not PASSTHROUGH).
    pub fn serves_http(&self) -> bool {
        match self.protocol.as_str() {
            "HTTP" | "HTTP2" | "GRPC" | "GRPC-WEB" => true,
            "HTTPS" => !matches!(self.tls_mode.as_deref(), Some("PASSTHROUGH" | "AUTO_PASSTHROUGH")),
            _ => false,
        }
    }
}

const TLS_FIELDS: [&str; 14] = [
    "httpsRedirect",
    "mode",
    "serverCertificate",
    "privateKey",
    "caCertificates",
    "caCrl",
    "credentialName",
    "credentialNames",
    "subjectAltNames",
    "verifyCertificateSpki",
    "verifyCertificateHash",
    "minProtocolVersion",
    "maxProtocolVersion",
    "cipherSuites",
];

impl IstioGateway {
    pub fn read(root: &Obj<'_>, meta: Meta) -> Read<IstioGateway> {
        let spec = root.require("spec")?;
        spec.check_keys(&["servers", "selector"], &[])?;
        let mut servers = Vec::new();
        for server in spec.list("servers")? {
            server.check_keys(&["port", "hosts", "tls", "name", "bind", "defaultEndpoint"], &[])?;
            let port = server.require("port")?;
            port.check_keys(&["number", "protocol", "name", "targetPort"], &[])?;
            let number = port
                .int("number", 1, 65535)?
                .ok_or_else(|| port.error("a server port needs `number`"))?;
            let protocol = port.req_str("protocol")?.to_ascii_uppercase();
            let hosts = strings(&server, "hosts")?;
            if hosts.is_empty() {
                return Err(server.error("a server needs at least one host"));
            }
            let (mut https_redirect, mut tls_mode) = (false, None);
            if let Some(tls) = server.get("tls") {
                let mut allowed: Vec<&str> = TLS_FIELDS.to_vec();
                allowed.extend(["tlsCertificates", "caCertificateFile"]);
                tls.check_keys(&allowed, &[])?;
                https_redirect = tls.bool("httpsRedirect")?.unwrap_or(false);
                tls_mode = tls.str("mode")?.map(str::to_string);
            }
            servers.push(Server {
                port: number as u32,
                protocol,
                port_name: port.str("name")?.unwrap_or("").to_string(),
                hosts: hosts.iter().map(|h| ServerHost::parse(h)).collect(),
                https_redirect,
                tls_mode,
                line: server.node.line,
            });
        }
        Ok(IstioGateway {
            meta,
            selector: spec.string_map("selector")?,
            servers,
        })
    }
}
