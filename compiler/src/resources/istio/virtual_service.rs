//! Istio `VirtualService` (`networking/v1alpha3/virtual_service.proto`), HTTP part.

use super::super::filters::{valid_header_name, valid_header_value};
use super::super::meta::Meta;
use super::super::read::{Obj, Read};
use super::{duration, export_to, percent, read_string_match, strings};

#[derive(Debug, Clone)]
pub struct VirtualService {
    pub meta: Meta,
    /// Lowercased, as written (short names are resolved by the semantics).
    /// Empty: a delegate VirtualService.
    pub hosts: Vec<String>,
    /// As written; empty = `["mesh"]`.
    pub gateways: Vec<String>,
    pub export_to: Vec<String>,
    pub http: Vec<HttpRule>,
    /// Annotation `internal.istio.io/route-semantics: gateway` (VirtualServices Istio
    /// generates from HTTPRoutes): prefixes match whole path segments and `rewrite.uri:
    /// /` strips the prefix (`route.go` `UseGatewaySemantics`).
    pub gateway_semantics: bool,
}

/// One `http[]` entry. The parts most rules do not have are boxed: a rule is then
/// 250 bytes instead of 650, which matters with 100 000 of them.
#[derive(Debug, Clone)]
pub struct HttpRule {
    pub name: Option<String>,
    /// Empty: matches everything.
    pub matches: Vec<HttpMatch>,
    pub action: RuleAction,
    pub rewrite: Option<Box<Rewrite>>,
    pub headers: Box<Headers>,
    pub timeout_ms: Option<u64>,
    pub retries: Option<Box<Retries>>,
    pub fault: Option<Box<Fault>>,
    pub mirrors: Vec<Mirror>,
    pub cors: Option<Box<Cors>>,
    pub line: u32,
}

#[derive(Debug, Clone)]
pub enum RuleAction {
    Route(Vec<RouteDestination>),
    Redirect(Redirect),
    DirectResponse { status: u16, body: Option<String> },
    Delegate(Delegate),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delegate {
    pub name: String,
    /// `None`: the root VirtualService's namespace.
    pub namespace: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StringMatch {
    Exact(String),
    Prefix(String),
    Regex(String),
    /// `{}` or `regex: "*"`: the header or parameter is present.
    Present,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpMatch {
    pub name: Option<String>,
    pub uri: Option<StringMatch>,
    pub scheme: Option<StringMatch>,
    pub method: Option<StringMatch>,
    pub authority: Option<StringMatch>,
    /// Lowercased names.
    pub headers: Vec<(String, StringMatch)>,
    pub without_headers: Vec<(String, StringMatch)>,
    pub query_params: Vec<(String, StringMatch)>,
    pub ignore_uri_case: bool,
    pub port: Option<u32>,
    pub source_labels: Vec<(String, String)>,
    pub source_namespace: Option<String>,
    pub gateways: Vec<String>,
    pub line: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    pub host: String,
    pub subset: Option<String>,
    pub port: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct RouteDestination {
    pub destination: Destination,
    pub weight: Option<u32>,
    pub headers: Headers,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers {
    pub request: HeaderOps,
    pub response: HeaderOps,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderOps {
    /// Lowercased names, sorted by name (Istio sorts them).
    pub set: Vec<(String, String)>,
    pub add: Vec<(String, String)>,
    pub remove: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedirectPort {
    /// No port: Envoy keeps the request's authority.
    Keep,
    Port(u32),
    FromRequest,
    FromProtocolDefault,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    pub uri: Option<String>,
    pub prefix_rewrite: Option<String>,
    pub authority: Option<String>,
    pub scheme: Option<String>,
    pub port: RedirectPort,
    pub code: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewrite {
    pub uri: Option<String>,
    pub authority: Option<String>,
    /// (match, rewrite as written, with RE2 `\1` captures).
    pub regex: Option<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retries {
    pub attempts: u32,
    pub per_try_timeout_ms: Option<u64>,
    pub retry_on: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fault {
    /// (delay ms, parts per million).
    pub delay: Option<(u64, u32)>,
    /// (status, parts per million).
    pub abort: Option<(u16, u32)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mirror {
    pub destination: Destination,
    pub per_million: u32,
    /// Where it was written, for diagnostics.
    pub field: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cors {
    /// `allowOrigins` (exact, prefix or regex; never `Present`), else the deprecated
    /// `allowOrigin` strings as exact matches (`TranslateCORSPolicy`).
    pub allow_origins: Vec<StringMatch>,
    pub allow_methods: Vec<String>,
    pub allow_headers: Vec<String>,
    pub expose_headers: Vec<String>,
    /// Whole seconds; `None` when `maxAge` is unset (Envoy then sends no max-age).
    pub max_age_seconds: Option<u32>,
    pub allow_credentials: bool,
    /// `unmatchedPreflights`: `FORWARD` (also when unset, Istio's default) sends a
    /// preflight from an origin not allowed on to the route; `IGNORE` answers it.
    pub forward_unmatched_preflights: bool,
}

const RULE_FIELDS: [&str; 15] = [
    "name",
    "match",
    "route",
    "redirect",
    "directResponse",
    "delegate",
    "rewrite",
    "timeout",
    "retries",
    "fault",
    "mirror",
    "mirrors",
    "mirrorPercentage",
    "corsPolicy",
    "headers",
];

impl VirtualService {
    pub fn read(root: &Obj<'_>, meta: Meta) -> Read<VirtualService> {
        let spec = root.require("spec")?;
        spec.check_keys(&["hosts", "gateways", "http", "exportTo"], &["tls", "tcp"])?;
        let hosts = strings(&spec, "hosts")?
            .into_iter()
            .map(|h| h.to_ascii_lowercase())
            .collect();
        // Vectors sized exactly: growth by doubling left half of every large
        // configuration's memory as spare capacity.
        let rule_nodes = spec.list("http")?;
        let mut http = Vec::with_capacity(rule_nodes.len());
        for rule in rule_nodes {
            let mut rule = read_rule(&rule)?;
            // Match `gateways` name gateways as the VirtualService's do, resolved in its
            // namespace (`ResolveVirtualServiceShortnames`).
            for m in &mut rule.matches {
                for g in &mut m.gateways {
                    *g = crate::istio::bind::gateway_key(g, &meta.namespace);
                }
            }
            http.push(rule);
        }
        let gateway_semantics = root
            .get("metadata")
            .and_then(|m| m.get("annotations"))
            .and_then(|a| a.str("internal.istio.io/route-semantics").ok().flatten())
            == Some("gateway");
        Ok(VirtualService {
            meta,
            gateway_semantics,
            hosts,
            gateways: strings(&spec, "gateways")?,
            export_to: export_to(&spec)?,
            http,
        })
    }
}

fn read_rule(rule: &Obj<'_>) -> Read<HttpRule> {
    // `mirrorPercent` is the deprecated integer form of `mirrorPercentage`.
    rule.check_keys(&RULE_FIELDS, &["mirrorPercent"])?;
    let actions: Vec<&str> = ["route", "redirect", "directResponse", "delegate"]
        .into_iter()
        .filter(|k| rule.get(k).is_some())
        .collect();
    if actions.len() != 1 {
        return Err(rule.error(format!(
            "an http rule needs exactly one of route, redirect, directResponse, delegate (found {})",
            if actions.is_empty() {
                "none".to_string()
            } else {
                actions.join(", ")
            }
        )));
    }
    let action = match actions[0] {
        "route" => {
            let destination_nodes = rule.list("route")?;
            let mut destinations = Vec::with_capacity(destination_nodes.len());
            for d in destination_nodes {
                d.check_keys(&["destination", "weight", "headers"], &[])?;
                destinations.push(RouteDestination {
                    destination: read_destination(&d.require("destination")?)?,
                    weight: d.int("weight", 0, i32::MAX as i64)?.map(|w| w as u32),
                    headers: read_headers(&d)?,
                });
            }
            if destinations.is_empty() {
                return Err(rule.error("`route` needs at least one destination"));
            }
            RuleAction::Route(destinations)
        }
        "redirect" => RuleAction::Redirect(read_redirect(&rule.require("redirect")?)?),
        "directResponse" => {
            let dr = rule.require("directResponse")?;
            dr.check_keys(&["status", "body"], &[])?;
            let status = dr
                .int("status", 200, 599)?
                .ok_or_else(|| dr.error("directResponse needs `status`"))? as u16;
            let body = match dr.get("body") {
                Some(body) => {
                    // `bytes` is base64 of arbitrary data; the bytecode carries text.
                    body.check_keys(&["string"], &["bytes"])?;
                    body.str("string")?.map(str::to_string)
                }
                None => None,
            };
            if body.as_ref().is_some_and(|b| b.len() > 1 << 20) {
                return Err(dr.error("directResponse body over 1 MB"));
            }
            RuleAction::DirectResponse { status, body }
        }
        _ => {
            let d = rule.require("delegate")?;
            d.check_keys(&["name", "namespace"], &[])?;
            RuleAction::Delegate(Delegate {
                name: d.req_str("name")?.to_string(),
                namespace: d.str("namespace")?.map(str::to_string),
            })
        }
    };
    let is_route = matches!(action, RuleAction::Route(_) | RuleAction::Delegate(_));
    for field in ["rewrite", "fault"] {
        if !is_route && let Some(node) = rule.get(field) {
            return Err(node.error(format!(
                "`{field}` cannot be combined with redirect or directResponse"
            )));
        }
    }
    if rule.get("mirror").is_some() && rule.get("mirrors").is_some() {
        return Err(rule.error("`mirror` and `mirrors` are exclusive"));
    }
    let mut mirrors = Vec::new();
    if let Some(mirror) = rule.get("mirror") {
        mirrors.push(Mirror {
            destination: read_destination(&mirror)?,
            per_million: percent(rule, "mirrorPercentage")?.unwrap_or(1_000_000),
            field: mirror.path(),
        });
    } else if let Some(node) = rule.get("mirrorPercentage") {
        return Err(node.error("`mirrorPercentage` needs `mirror`"));
    }
    for policy in rule.list("mirrors")? {
        policy.check_keys(&["destination", "percentage"], &[])?;
        mirrors.push(Mirror {
            destination: read_destination(&policy.require("destination")?)?,
            per_million: percent(&policy, "percentage")?.unwrap_or(1_000_000),
            field: policy.path(),
        });
    }
    let match_nodes = rule.list("match")?;
    let mut matches = Vec::with_capacity(match_nodes.len());
    for m in match_nodes {
        matches.push(read_match(&m)?);
    }
    Ok(HttpRule {
        name: rule.str("name")?.map(str::to_string),
        matches,
        action,
        rewrite: rule
            .get("rewrite")
            .map(|r| read_rewrite(&r).map(Box::new))
            .transpose()?,
        headers: Box::new(read_headers(rule)?),
        timeout_ms: duration(rule, "timeout")?,
        retries: rule
            .get("retries")
            .map(|r| read_retries(&r).map(Box::new))
            .transpose()?,
        fault: rule
            .get("fault")
            .map(|f| read_fault(&f).map(Box::new))
            .transpose()?,
        mirrors,
        cors: rule
            .get("corsPolicy")
            .map(|c| read_cors(&c).map(Box::new))
            .transpose()?,
        line: rule.node.line,
    })
}

fn read_destination(node: &Obj<'_>) -> Read<Destination> {
    node.check_keys(&["host", "subset", "port"], &[])?;
    let port = match node.get("port") {
        Some(port) => {
            port.check_keys(&["number"], &[])?;
            port.int("number", 1, 65535)?.map(|p| p as u32)
        }
        None => None,
    };
    let host = node.req_str("host")?;
    if host.is_empty() {
        return Err(node.error("destination host is empty"));
    }
    Ok(Destination {
        host: host.to_ascii_lowercase(),
        subset: node.str("subset")?.filter(|s| !s.is_empty()).map(str::to_string),
        port,
    })
}

fn read_match(node: &Obj<'_>) -> Read<HttpMatch> {
    node.check_keys(
        &[
            "name",
            "uri",
            "scheme",
            "method",
            "authority",
            "headers",
            "withoutHeaders",
            "queryParams",
            "ignoreUriCase",
            "port",
            "sourceLabels",
            "sourceNamespace",
            "gateways",
            "statPrefix",
        ],
        &[],
    )?;
    let single = |key: &str| node.get(key).map(|n| read_string_match(&n)).transpose();
    let named = |key: &str, lowercase: bool| -> Read<Vec<(String, StringMatch)>> {
        let Some(map) = node.get(key) else {
            return Ok(Vec::new());
        };
        let Some(entries) = map.node.as_map() else {
            return Err(map.error(format!("expected a mapping, found {}", map.node.describe())));
        };
        let mut out = Vec::new();
        for (k, _) in entries {
            let child = map.get(&k.name);
            let name = if lowercase {
                k.name.to_ascii_lowercase()
            } else {
                k.name.clone()
            };
            if lowercase && name.starts_with("@request.auth.claims") {
                return Err(map.error_at(
                    map.node,
                    &map.field(&k.name),
                    "JWT claim matches are not supported",
                ));
            }
            if lowercase && !(valid_header_name(name.trim_start_matches(':'))) {
                return Err(map.error_at(
                    map.node,
                    &map.field(&k.name),
                    format!("{name:?} is not a valid header name"),
                ));
            }
            let m = match child {
                Some(child) => read_string_match(&child)?,
                None => StringMatch::Present,
            };
            out.push((name, m));
        }
        Ok(out)
    };
    let uri = single("uri")?;
    if matches!(uri, Some(StringMatch::Present)) {
        return Err(node.error("`uri` needs exact, prefix or regex"));
    }
    Ok(HttpMatch {
        name: node.str("name")?.map(str::to_string),
        uri,
        scheme: single("scheme")?,
        method: single("method")?,
        authority: single("authority")?,
        headers: named("headers", true)?,
        without_headers: named("withoutHeaders", true)?,
        query_params: named("queryParams", false)?,
        ignore_uri_case: node.bool("ignoreUriCase")?.unwrap_or(false),
        port: node.int("port", 1, 65535)?.map(|p| p as u32),
        source_labels: node.string_map("sourceLabels")?,
        source_namespace: node.str("sourceNamespace")?.map(str::to_string),
        gateways: strings(node, "gateways")?,
        line: node.node.line,
    })
}

fn read_redirect(node: &Obj<'_>) -> Read<Redirect> {
    node.check_keys(
        &[
            "uri",
            "authority",
            "port",
            "derivePort",
            "scheme",
            "redirectCode",
            "prefixRewrite",
        ],
        &[],
    )?;
    if node.get("port").is_some() && node.get("derivePort").is_some() {
        return Err(node.error("`port` and `derivePort` are exclusive"));
    }
    let port = if let Some(p) = node.int("port", 1, 65535)? {
        RedirectPort::Port(p as u32)
    } else {
        match node.str("derivePort")? {
            None => RedirectPort::Keep,
            Some("FROM_PROTOCOL_DEFAULT") => RedirectPort::FromProtocolDefault,
            Some("FROM_REQUEST_PORT") => RedirectPort::FromRequest,
            Some(other) => {
                return Err(node.error(format!(
                    "unknown derivePort {other:?} (FROM_PROTOCOL_DEFAULT or FROM_REQUEST_PORT)"
                )));
            }
        }
    };
    // route.go ApplyRedirect: 0/301, 302, 303, 307, 308; any other code leaves the
    // route without an action, which is refused here instead.
    let code = node.int("redirectCode", 0, 999)?.unwrap_or(301) as u16;
    let code = if code == 0 { 301 } else { code };
    if !matches!(code, 301 | 302 | 303 | 307 | 308) {
        return Err(node.error(format!(
            "redirectCode {code}: Istio supports 301, 302, 303, 307, 308 (others give a route with no action)"
        )));
    }
    let scheme = node.str("scheme")?.map(str::to_string);
    if let Some(s) = &scheme
        && s != "http"
        && s != "https"
    {
        return Err(node.error(format!("redirect scheme {s:?}: http or https")));
    }
    Ok(Redirect {
        uri: node.str("uri")?.filter(|s| !s.is_empty()).map(str::to_string),
        prefix_rewrite: node
            .str("prefixRewrite")?
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        authority: node
            .str("authority")?
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        scheme,
        port,
        code,
    })
}

fn read_rewrite(node: &Obj<'_>) -> Read<Rewrite> {
    node.check_keys(&["uri", "authority", "uriRegexRewrite"], &[])?;
    let regex = match node.get("uriRegexRewrite") {
        Some(r) => {
            r.check_keys(&["match", "rewrite"], &[])?;
            let pattern = r.req_str("match")?;
            super::super::gateway_api::check_regex(&r, pattern)?;
            Some((pattern.to_string(), r.req_str("rewrite")?.to_string()))
        }
        None => None,
    };
    let uri = node.str("uri")?.filter(|s| !s.is_empty()).map(str::to_string);
    if uri.is_some() && regex.is_some() {
        return Err(node.error("`uri` and `uriRegexRewrite` are exclusive"));
    }
    Ok(Rewrite {
        uri,
        authority: node
            .str("authority")?
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        regex,
    })
}

fn read_headers(parent: &Obj<'_>) -> Read<Headers> {
    let Some(headers) = parent.get("headers") else {
        return Ok(Headers::default());
    };
    headers.check_keys(&["request", "response"], &[])?;
    let ops = |key: &str| -> Read<HeaderOps> {
        let Some(node) = headers.get(key) else {
            return Ok(HeaderOps::default());
        };
        node.check_keys(&["set", "add", "remove"], &[])?;
        let map = |k: &str| -> Read<Vec<(String, String)>> {
            let mut entries: Vec<(String, String)> = node
                .string_map(k)?
                .into_iter()
                .map(|(n, v)| (n.to_ascii_lowercase(), v))
                .collect();
            for (n, v) in &entries {
                if !valid_header_name(n.trim_start_matches(':')) || !valid_header_value(v) {
                    return Err(node
                        .error(format!("invalid header {n:?}: {v:?}"))
                        .with_field(node.field(k)));
                }
            }
            // TranslateHeadersOperations sorts by key.
            entries.sort();
            Ok(entries)
        };
        let mut remove: Vec<String> = strings(&node, "remove")?
            .into_iter()
            .map(|n| n.to_ascii_lowercase())
            .collect();
        remove.sort();
        Ok(HeaderOps {
            set: map("set")?,
            add: map("add")?,
            remove,
        })
    };
    Ok(Headers {
        request: ops("request")?,
        response: ops("response")?,
    })
}

fn read_retries(node: &Obj<'_>) -> Read<Retries> {
    // Backoff, host predicates and locality priorities change how a retry is made, not
    // which cluster is chosen; they are accepted and not carried.
    node.check_keys(
        &[
            "attempts",
            "perTryTimeout",
            "retryOn",
            "retryRemoteLocalities",
            "retryIgnorePreviousHosts",
            "backoff",
        ],
        &[],
    )?;
    Ok(Retries {
        attempts: node.int("attempts", 0, i32::MAX as i64)?.unwrap_or(0) as u32,
        per_try_timeout_ms: duration(node, "perTryTimeout")?,
        retry_on: node.str("retryOn")?.filter(|s| !s.is_empty()).map(str::to_string),
    })
}

fn read_fault(node: &Obj<'_>) -> Read<Fault> {
    node.check_keys(&["delay", "abort"], &[])?;
    let mut fault = Fault::default();
    if let Some(delay) = node.get("delay") {
        delay.check_keys(&["fixedDelay", "percentage", "percent"], &["exponentialDelay"])?;
        let ms = duration(&delay, "fixedDelay")?.ok_or_else(|| delay.error("delay needs `fixedDelay`"))?;
        // "percentage: ... If unspecified, no request will be delayed" (0 %); the
        // deprecated integer `percent` is used when `percentage` is absent.
        let share = match percent(&delay, "percentage")? {
            Some(p) => p,
            None => delay.int("percent", 0, 100)?.map_or(0, |p| p as u32 * 10_000),
        };
        fault.delay = Some((ms, share));
    }
    if let Some(abort) = node.get("abort") {
        abort.check_keys(&["httpStatus", "percentage"], &["grpcStatus", "http2Error"])?;
        let status = abort
            .int("httpStatus", 200, 599)?
            .ok_or_else(|| abort.error("abort needs `httpStatus`"))? as u16;
        fault.abort = Some((status, percent(&abort, "percentage")?.unwrap_or(0)));
    }
    Ok(fault)
}

/// `corsPolicy`, validated as Istio validates it (`validateCORSPolicy`): every
/// `allowOrigins` entry is a non-empty exact, prefix or regex match, regexes compile,
/// `maxAge` has whole seconds.
fn read_cors(node: &Obj<'_>) -> Read<Cors> {
    node.check_keys(
        &[
            "allowOrigin",
            "allowOrigins",
            "allowMethods",
            "allowHeaders",
            "exposeHeaders",
            "maxAge",
            "allowCredentials",
            "unmatchedPreflights",
        ],
        &[],
    )?;
    let mut origins = Vec::new();
    for origin in node.list("allowOrigins")? {
        match read_string_match(&origin)? {
            StringMatch::Exact(value) | StringMatch::Prefix(value) if value.is_empty() => {
                return Err(origin.error("an empty match is not a valid CORS origin"));
            }
            StringMatch::Present => {
                return Err(origin.error("a CORS origin needs one of exact, prefix, regex"));
            }
            matcher => origins.push(matcher),
        }
    }
    // Istio reads the deprecated `allowOrigin` only when `allowOrigins` is empty.
    if origins.is_empty() {
        origins = strings(node, "allowOrigin")?
            .into_iter()
            .map(StringMatch::Exact)
            .collect();
    }
    let max_age = match duration(node, "maxAge")? {
        Some(ms) if ms % 1000 != 0 => {
            return Err(node
                .get("maxAge")
                .unwrap_or_else(|| node.clone())
                .error("maxAge is accurate only to seconds"));
        }
        other => other.map(|ms| (ms / 1000).min(u64::from(u32::MAX - 1)) as u32),
    };
    let forward = match node.str("unmatchedPreflights")? {
        None | Some("UNSPECIFIED" | "FORWARD") => true,
        Some("IGNORE") => false,
        Some(other) => {
            return Err(node
                .get("unmatchedPreflights")
                .unwrap_or_else(|| node.clone())
                .error(format!("unmatchedPreflights {other:?} is not FORWARD or IGNORE")));
        }
    };
    Ok(Cors {
        allow_origins: origins,
        allow_methods: strings(node, "allowMethods")?,
        allow_headers: strings(node, "allowHeaders")?,
        expose_headers: strings(node, "exposeHeaders")?,
        max_age_seconds: max_age,
        allow_credentials: node.bool("allowCredentials")?.unwrap_or(false),
        forward_unmatched_preflights: forward,
    })
}
