//! Route test files (`shared/spec/route-tests.md`): parsed strictly, unknown keys are
//! errors, contradictions are errors, every error names the file, line and field.

use crate::diag::{Diagnostic, Location};
use crate::input::{Node, Value, parse_documents};
use crate::resources::read::{Obj, Read};

#[derive(Debug, Clone)]
pub struct TestFile {
    pub path: String,
    pub target: TestTarget,
    pub cluster_domain: Option<String>,
    pub cases: Vec<Case>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestTarget {
    Gateway(String),
    IstioGateway(String),
    Mesh { namespace: String },
}

#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub line: u32,
    pub request: TestRequest,
    pub repeat: u32,
    pub expect: Expect,
}

#[derive(Debug, Clone, Default)]
pub struct TestRequest {
    pub method: String,
    pub scheme: String,
    pub port: Option<u32>,
    pub host: Option<String>,
    pub path: String,
    /// Lowercase names, in order; a name may repeat.
    pub headers: Vec<(String, String)>,
    /// Switchyard's extension of the format: the TLS server name (SNI) the client sends;
    /// the request then travels over TLS and its scheme defaults to `https`.
    pub sni: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Expect {
    pub status: Option<u16>,
    /// `Some(None)`: `backend: null`, nothing may be forwarded.
    pub backend: Option<Option<String>>,
    pub port: Option<u32>,
    pub subset: Option<String>,
    pub cluster: Option<String>,
    pub upstream: Option<UpstreamExpect>,
    pub response: Option<ResponseExpect>,
    pub mirrors: Option<Vec<String>>,
    pub timeout_ms: Option<u64>,
    pub backends: Option<Vec<(String, f64)>>,
    pub tolerance: f64,
}

#[derive(Debug, Clone, Default)]
pub struct UpstreamExpect {
    pub method: Option<String>,
    pub host: Option<String>,
    pub path: Option<String>,
    pub headers: Vec<(String, String)>,
    pub absent_headers: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ResponseExpect {
    pub headers: Vec<(String, String)>,
    pub absent_headers: Vec<String>,
    pub location: Option<String>,
}

/// Gateway API conformance tolerance for weighted traffic.
const DEFAULT_TOLERANCE: f64 = 0.05;

/// Parses one test file's text.
pub fn parse_test_file(path: &str, text: &str) -> Result<TestFile, Diagnostic> {
    let documents = parse_documents(text, path)?;
    let [root] = documents.as_slice() else {
        return Err(Diagnostic::error(
            Location {
                file: path.to_string(),
                line: 1,
                column: 1,
            },
            "a route test file holds exactly one YAML document",
        ));
    };
    let resource = "route test";
    let top = Obj::root(path, resource, root);
    top.check_keys(&["target", "clusterDomain", "cases"], &[])?;
    let target = read_target(&top.require("target")?)?;
    let cluster_domain = top.str("clusterDomain")?.map(str::to_string);
    let mut cases: Vec<Case> = Vec::new();
    for case in top.list("cases")? {
        let parsed = read_case(&case)?;
        if let Some(first) = cases.iter().find(|c| c.name == parsed.name) {
            return Err(case.error(format!(
                "case name {:?} is already used at line {}",
                parsed.name, first.line
            )));
        }
        cases.push(parsed);
    }
    if cases.is_empty() {
        return Err(top.error("no cases"));
    }
    Ok(TestFile {
        path: path.to_string(),
        target,
        cluster_domain,
        cases,
    })
}

fn read_target(target: &Obj<'_>) -> Read<TestTarget> {
    target.check_keys(&["gateway", "istioGateway", "mesh"], &[])?;
    let count = ["gateway", "istioGateway", "mesh"]
        .iter()
        .filter(|k| target.get(k).is_some())
        .count();
    if count != 1 {
        return Err(target.error("exactly one of gateway, istioGateway, mesh"));
    }
    if let Some(gateway) = target.str("gateway")? {
        return Ok(TestTarget::Gateway(namespaced(target, gateway)?));
    }
    if let Some(gateway) = target.str("istioGateway")? {
        return Ok(TestTarget::IstioGateway(namespaced(target, gateway)?));
    }
    let mesh = target.require("mesh")?;
    mesh.check_keys(&["namespace"], &[])?;
    Ok(TestTarget::Mesh {
        namespace: mesh.req_str("namespace")?.to_string(),
    })
}

fn namespaced(at: &Obj<'_>, text: &str) -> Read<String> {
    match text.split_once('/') {
        Some((ns, name)) if !ns.is_empty() && !name.is_empty() && !name.contains('/') => Ok(text.to_string()),
        _ => Err(at.error(format!("{text:?} is not namespace/name"))),
    }
}

fn read_case(case: &Obj<'_>) -> Read<Case> {
    case.check_keys(&["name", "request", "repeat", "expect"], &[])?;
    let name = case.req_str("name")?.to_string();
    let request = match case.get("request") {
        Some(request) => read_request(&request)?,
        None => read_request(&Obj::root(case.file, case.resource, &EMPTY_MAP))?,
    };
    let repeat = case.int("repeat", 1, 100_000)?.unwrap_or(1) as u32;
    let expect = read_expect(&case.require("expect")?)?;
    if expect.backends.is_some() && case.get("repeat").is_none() {
        return Err(case.error("`expect.backends` checks a distribution and needs `repeat`"));
    }
    Ok(Case {
        name,
        line: case.node.line,
        request,
        repeat,
        expect,
    })
}

static EMPTY_MAP: Node = Node {
    value: Value::Map(Vec::new()),
    line: 0,
    column: 0,
};

fn read_request(request: &Obj<'_>) -> Read<TestRequest> {
    request.check_keys(
        &[
            "method", "scheme", "port", "host", "path", "headers", "grpc", "sni",
        ],
        &[],
    )?;
    let sni = request.str("sni")?.map(str::to_string);
    if let Some(name) = &sni
        && !is_server_name(name)
    {
        return Err(request
            .get("sni")
            .unwrap_or_else(|| request.clone())
            .error(format!("sni {name:?} is not a DNS name")));
    }
    let default_scheme = if sni.is_some() { "https" } else { "http" };
    let mut parsed = TestRequest {
        method: request.str("method")?.unwrap_or("GET").to_string(),
        scheme: request.str("scheme")?.unwrap_or(default_scheme).to_string(),
        port: request.int("port", 1, 65535)?.map(|p| p as u32),
        host: request.str("host")?.map(str::to_string),
        path: request.str("path")?.unwrap_or("/").to_string(),
        headers: read_headers(request, "headers")?,
        sni,
    };
    if !matches!(parsed.scheme.as_str(), "http" | "https") {
        return Err(request.error(format!("scheme {:?} is not http or https", parsed.scheme)));
    }
    if parsed.sni.is_some() && parsed.scheme != "https" {
        return Err(request.error("`sni` is sent in a TLS handshake: the scheme is https"));
    }
    if !parsed.path.starts_with('/') {
        return Err(request.error(format!("path {:?} must start with '/'", parsed.path)));
    }
    if let Some(grpc) = request.get("grpc") {
        if request.get("method").is_some() || request.get("path").is_some() {
            return Err(grpc.error("`grpc` sets method and path; omit `method` and `path`"));
        }
        grpc.check_keys(&["service", "method"], &[])?;
        parsed.method = "POST".to_string();
        parsed.path = format!("/{}/{}", grpc.req_str("service")?, grpc.req_str("method")?);
        parsed
            .headers
            .push(("content-type".to_string(), "application/grpc".to_string()));
    }
    Ok(parsed)
}

/// An SNI as a client sends it: a DNS name (RFC 6066 forbids IP literals), so letters,
/// digits, `-` and `.`, at most 253 bytes.
fn is_server_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.parse::<std::net::IpAddr>().is_err()
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.')
}

/// A map of name to value, or a list of `[name, value]` pairs; names lowercased.
fn read_headers(parent: &Obj<'_>, key: &str) -> Read<Vec<(String, String)>> {
    let Some(node) = parent.get(key) else {
        return Ok(Vec::new());
    };
    if node.node.as_map().is_some() {
        return Ok(node
            .string_map_entries()?
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect());
    }
    let mut pairs = Vec::new();
    for pair in parent.list(key)? {
        let items = pair.list_items()?;
        let [name, value] = items.as_slice() else {
            return Err(pair.error("a header pair is [name, value]"));
        };
        pairs.push((name.as_str()?.to_ascii_lowercase(), value.as_str()?.to_string()));
    }
    Ok(pairs)
}

fn read_names(parent: &Obj<'_>, key: &str) -> Read<Vec<String>> {
    parent
        .list(key)?
        .iter()
        .map(|n| n.as_str().map(str::to_ascii_lowercase))
        .collect()
}

fn read_expect(expect: &Obj<'_>) -> Read<Expect> {
    expect.check_keys(
        &[
            "status",
            "backend",
            "port",
            "subset",
            "cluster",
            "upstream",
            "response",
            "mirrors",
            "timeoutMs",
            "backends",
            "tolerance",
        ],
        &[],
    )?;
    let backend = match expect.node.get("backend") {
        None => None,
        Some(node) if node.is_null() => Some(None),
        Some(_) => Some(Some(expect.req_str("backend")?.to_string())),
    };
    let status = expect.int("status", 100, 599)?.map(|s| s as u16);
    if let (Some(status), Some(Some(_))) = (status, &backend)
        && status != 200
    {
        return Err(expect.error(format!(
            "status {status} with a backend is a contradiction: a forwarded request gets 200 from the backend"
        )));
    }
    let upstream = match expect.get("upstream") {
        Some(up) => {
            up.check_keys(&["method", "host", "path", "headers", "absentHeaders"], &[])?;
            Some(UpstreamExpect {
                method: up.str("method")?.map(str::to_string),
                host: up.str("host")?.map(str::to_string),
                path: up.str("path")?.map(str::to_string),
                headers: read_headers(&up, "headers")?,
                absent_headers: read_names(&up, "absentHeaders")?,
            })
        }
        None => None,
    };
    let response = match expect.get("response") {
        Some(resp) => {
            resp.check_keys(&["headers", "absentHeaders", "location"], &[])?;
            Some(ResponseExpect {
                headers: read_headers(&resp, "headers")?,
                absent_headers: read_names(&resp, "absentHeaders")?,
                location: resp.str("location")?.map(str::to_string),
            })
        }
        None => None,
    };
    let mirrors = match expect.get("mirrors") {
        Some(_) => Some(
            expect
                .list("mirrors")?
                .iter()
                .map(|m| m.as_str().map(str::to_string))
                .collect::<Read<Vec<_>>>()?,
        ),
        None => None,
    };
    let backends = match expect.get("backends") {
        Some(b) => {
            let mut shares = Vec::new();
            for (name, value) in b.string_map_entries()? {
                let share: f64 = value
                    .parse()
                    .map_err(|_| b.error(format!("share of {name:?} is not a number")))?;
                if !(0.0..=1.0).contains(&share) {
                    return Err(b.error(format!("share of {name:?} must be between 0 and 1")));
                }
                shares.push((name, share));
            }
            Some(shares)
        }
        None => None,
    };
    let tolerance = match expect.str("tolerance")? {
        Some(text) => text
            .parse::<f64>()
            .ok()
            .filter(|t| (0.0..=1.0).contains(t))
            .ok_or_else(|| expect.error(format!("tolerance {text:?} must be a number between 0 and 1")))?,
        None => DEFAULT_TOLERANCE,
    };
    Ok(Expect {
        status,
        backend,
        port: expect.int("port", 1, 65535)?.map(|p| p as u32),
        subset: expect.str("subset")?.map(str::to_string),
        cluster: expect.str("cluster")?.map(str::to_string),
        upstream,
        response,
        mirrors,
        timeout_ms: expect.int("timeoutMs", 0, i64::MAX)?.map(|t| t as u64),
        backends,
        tolerance,
    })
}

impl Obj<'_> {
    /// A mapping of scalars, as (key, text) pairs in file order.
    fn string_map_entries(&self) -> Read<Vec<(String, String)>> {
        let Some(entries) = self.node.as_map() else {
            return Err(self.error(format!("expected a mapping, found {}", self.node.describe())));
        };
        entries
            .iter()
            .map(|(k, v)| match &v.value {
                Value::Scalar { text, .. } => Ok((k.name.clone(), text.clone())),
                _ => Err(self.error_at(v, &self.field(&k.name), "expected a string")),
            })
            .collect()
    }

    /// This node's items, when it is a list.
    fn list_items(&self) -> Read<Vec<Obj<'_>>> {
        match self.node.as_seq() {
            Some(items) => Ok(items
                .iter()
                .map(|n| Obj::root(self.file, self.resource, n))
                .collect()),
            None => Err(self.error(format!("expected a list, found {}", self.node.describe()))),
        }
    }
}
