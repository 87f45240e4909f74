//! HTTPRoute filters (`HTTPRouteFilter`), validated as the CRD schema and CEL rules do.

use super::read::{Obj, Read};

/// One filter, in the order the rule lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    RequestHeaderModifier(HeaderModifier),
    ResponseHeaderModifier(HeaderModifier),
    RequestRedirect(Redirect),
    UrlRewrite(Rewrite),
    RequestMirror(Mirror),
    Cors(Cors),
}

/// `set` overwrites, `add` appends, `remove` deletes; names are lowercased.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderModifier {
    pub set: Vec<(String, String)>,
    pub add: Vec<(String, String)>,
    pub remove: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathModifier {
    ReplaceFullPath(String),
    ReplacePrefixMatch(String),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Redirect {
    pub scheme: Option<String>,
    pub hostname: Option<String>,
    pub path: Option<PathModifier>,
    pub port: Option<u32>,
    pub status: u16,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rewrite {
    pub hostname: Option<String>,
    pub path: Option<PathModifier>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mirror {
    pub backend: super::BackendRef,
    /// Share of requests mirrored, in parts per million.
    pub per_million: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cors {
    pub allow_origins: Vec<String>,
    pub allow_credentials: bool,
    pub allow_methods: Vec<String>,
    pub allow_headers: Vec<String>,
    pub expose_headers: Vec<String>,
    pub max_age_seconds: u32,
}

impl Filter {
    pub fn type_name(&self) -> &'static str {
        match self {
            Filter::RequestHeaderModifier(_) => "RequestHeaderModifier",
            Filter::ResponseHeaderModifier(_) => "ResponseHeaderModifier",
            Filter::RequestRedirect(_) => "RequestRedirect",
            Filter::UrlRewrite(_) => "URLRewrite",
            Filter::RequestMirror(_) => "RequestMirror",
            Filter::Cors(_) => "CORS",
        }
    }
}

/// Reads a `filters` list; each type at most once except RequestMirror.
pub fn read_filters(parent: &Obj<'_>) -> Read<Vec<Filter>> {
    let nodes = parent.list("filters")?;
    if nodes.len() > 16 {
        return Err(parent.error("at most 16 filters"));
    }
    let mut filters: Vec<Filter> = Vec::new();
    for node in &nodes {
        let filter = read_filter(node)?;
        let repeatable = matches!(filter, Filter::RequestMirror(_));
        if !repeatable && filters.iter().any(|f| f.type_name() == filter.type_name()) {
            return Err(node.error(format!("filter {} may appear only once", filter.type_name())));
        }
        filters.push(filter);
    }
    let has = |name| filters.iter().any(|f| f.type_name() == name);
    if has("RequestRedirect") && has("URLRewrite") {
        return Err(parent.error("RequestRedirect and URLRewrite cannot be used together"));
    }
    Ok(filters)
}

fn read_filter(node: &Obj<'_>) -> Read<Filter> {
    node.check_keys(
        &[
            "type",
            "requestHeaderModifier",
            "responseHeaderModifier",
            "requestRedirect",
            "urlRewrite",
            "requestMirror",
            "cors",
            "extensionRef",
        ],
        &["externalAuth"],
    )?;
    let kind = node.req_str("type")?;
    let field = match kind {
        "RequestHeaderModifier" => "requestHeaderModifier",
        "ResponseHeaderModifier" => "responseHeaderModifier",
        "RequestRedirect" => "requestRedirect",
        "URLRewrite" => "urlRewrite",
        "RequestMirror" => "requestMirror",
        "CORS" => "cors",
        "ExtensionRef" => {
            let target = node.get("extensionRef");
            let what = target
                .as_ref()
                .map(|t| {
                    format!(
                        " ({} {})",
                        t.str("kind").ok().flatten().unwrap_or("?"),
                        t.str("name").ok().flatten().unwrap_or("?")
                    )
                })
                .unwrap_or_default();
            return Err(node.error(format!(
                "ExtensionRef filters{what} are implementation-specific and Switchyard supports none"
            )));
        }
        other => return Err(node.error(format!("unknown filter type {other:?}"))),
    };
    let config = node.require(field)?;
    Ok(match kind {
        "RequestHeaderModifier" => Filter::RequestHeaderModifier(read_header_modifier(&config)?),
        "ResponseHeaderModifier" => Filter::ResponseHeaderModifier(read_header_modifier(&config)?),
        "RequestRedirect" => Filter::RequestRedirect(read_redirect(&config)?),
        "URLRewrite" => Filter::UrlRewrite(read_rewrite(&config)?),
        "RequestMirror" => Filter::RequestMirror(read_mirror(&config)?),
        _ => Filter::Cors(read_cors(&config)?),
    })
}

/// Header names: RFC 9110 tokens. Values from configuration: no CR, LF or NUL, so a
/// manifest can never split or smuggle a header.
pub fn valid_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c))
}

pub fn valid_header_value(value: &str) -> bool {
    value.bytes().all(|c| c != b'\r' && c != b'\n' && c != 0)
}

fn read_header_modifier(config: &Obj<'_>) -> Read<HeaderModifier> {
    config.check_keys(&["set", "add", "remove"], &[])?;
    let mut modifier = HeaderModifier::default();
    let mut names: Vec<String> = Vec::new();
    let mut claim = |at: &Obj<'_>, name: &str| -> Read<String> {
        if !valid_header_name(name) {
            return Err(at.error(format!("{name:?} is not a valid header name")));
        }
        let lower = name.to_ascii_lowercase();
        // "Input is case-insensitive": one action per name across set, add and remove.
        if names.contains(&lower) {
            return Err(at.error(format!("header {name:?} is modified twice")));
        }
        names.push(lower.clone());
        Ok(lower)
    };
    for (key, list) in [("set", &mut modifier.set), ("add", &mut modifier.add)] {
        for pair in config.list(key)? {
            pair.check_keys(&["name", "value"], &[])?;
            let name = claim(&pair, pair.req_str("name")?)?;
            let value = pair.req_str("value")?;
            if !valid_header_value(value) {
                return Err(pair.error("header values must not contain CR, LF or NUL"));
            }
            list.push((name, value.to_string()));
        }
    }
    for name in config.list("remove")? {
        let text = name.as_str()?;
        modifier.remove.push(claim(&name, text)?);
    }
    Ok(modifier)
}

fn read_path_modifier(config: &Obj<'_>) -> Read<PathModifier> {
    config.check_keys(&["type", "replaceFullPath", "replacePrefixMatch"], &[])?;
    let check = |value: &str| -> Read<String> {
        if !value.starts_with('/') && !value.is_empty() || !valid_header_value(value) || value.contains('?') {
            return Err(config.error(format!("{value:?} is not a valid path")));
        }
        Ok(value.to_string())
    };
    match config.req_str("type")? {
        "ReplaceFullPath" => Ok(PathModifier::ReplaceFullPath(check(
            config.req_str("replaceFullPath")?,
        )?)),
        "ReplacePrefixMatch" => Ok(PathModifier::ReplacePrefixMatch(check(
            config.req_str("replacePrefixMatch")?,
        )?)),
        other => Err(config.error(format!("unknown path modifier type {other:?}"))),
    }
}

fn read_hostname(config: &Obj<'_>, key: &str) -> Read<Option<String>> {
    let Some(host) = config.get(key) else {
        return Ok(None);
    };
    let text = host.as_str()?;
    let ok = !text.is_empty()
        && text.len() <= 253
        && text.split('.').all(|l| {
            !l.is_empty()
                && l.bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        });
    if !ok {
        return Err(host.error(format!(
            "{text:?} is not a precise hostname (lowercase, no wildcard)"
        )));
    }
    Ok(Some(text.to_string()))
}

fn read_redirect(config: &Obj<'_>) -> Read<Redirect> {
    config.check_keys(&["scheme", "hostname", "path", "port", "statusCode"], &[])?;
    let scheme = config.str("scheme")?.map(str::to_string);
    if let Some(s) = &scheme
        && s != "http"
        && s != "https"
    {
        return Err(config.error(format!("scheme {s:?} must be http or https")));
    }
    let status = config.int("statusCode", 100, 599)?.unwrap_or(302) as u16;
    if ![301, 302, 303, 307, 308].contains(&status) {
        return Err(config.error(format!("statusCode {status} must be 301, 302, 303, 307 or 308")));
    }
    Ok(Redirect {
        scheme,
        hostname: read_hostname(config, "hostname")?,
        path: config.get("path").map(|p| read_path_modifier(&p)).transpose()?,
        port: config.int("port", 1, 65535)?.map(|p| p as u32),
        status,
    })
}

fn read_rewrite(config: &Obj<'_>) -> Read<Rewrite> {
    config.check_keys(&["hostname", "path"], &[])?;
    Ok(Rewrite {
        hostname: read_hostname(config, "hostname")?,
        path: config.get("path").map(|p| read_path_modifier(&p)).transpose()?,
    })
}

fn read_mirror(config: &Obj<'_>) -> Read<Mirror> {
    config.check_keys(&["backendRef", "percent", "fraction"], &[])?;
    let backend_node = config.require("backendRef")?;
    backend_node.check_keys(&["group", "kind", "name", "namespace", "port"], &[])?;
    let backend = super::BackendRef {
        group: backend_node.str("group")?.unwrap_or("").to_string(),
        kind: backend_node.str("kind")?.unwrap_or("Service").to_string(),
        name: backend_node.req_str("name")?.to_string(),
        namespace: backend_node.str("namespace")?.map(str::to_string),
        port: backend_node.int("port", 1, 65535)?.map(|p| p as u32),
        weight: 1,
        filters: Vec::new(),
    };
    let percent = config.int("percent", 0, 100)?;
    let fraction = match config.get("fraction") {
        Some(f) => {
            f.check_keys(&["numerator", "denominator"], &[])?;
            let numerator = f.int("numerator", 0, i64::from(u32::MAX))?.unwrap_or(0);
            let denominator = f.int("denominator", 1, i64::from(u32::MAX))?.unwrap_or(100);
            if numerator > denominator {
                return Err(f.error("numerator must not exceed denominator"));
            }
            Some((numerator, denominator))
        }
        None => None,
    };
    let per_million = match (percent, fraction) {
        (Some(_), Some(_)) => return Err(config.error("percent and fraction are mutually exclusive")),
        (Some(p), None) => (p * 10_000) as u32,
        (None, Some((n, d))) => ((n as u128 * 1_000_000) / d as u128) as u32,
        (None, None) => 1_000_000,
    };
    Ok(Mirror { backend, per_million })
}

fn read_cors(config: &Obj<'_>) -> Read<Cors> {
    config.check_keys(
        &[
            "allowOrigins",
            "allowCredentials",
            "allowMethods",
            "allowHeaders",
            "exposeHeaders",
            "maxAge",
        ],
        &[],
    )?;
    let strings = |key: &str| -> Read<Vec<String>> {
        config
            .list(key)?
            .iter()
            .map(|n| n.as_str().map(str::to_string))
            .collect()
    };
    let cors = Cors {
        allow_origins: strings("allowOrigins")?,
        allow_credentials: config.bool("allowCredentials")?.unwrap_or(false),
        allow_methods: strings("allowMethods")?,
        allow_headers: strings("allowHeaders")?,
        expose_headers: strings("exposeHeaders")?,
        max_age_seconds: config.int("maxAge", 1, i64::from(u32::MAX))?.unwrap_or(5) as u32,
    };
    for value in cors
        .allow_methods
        .iter()
        .chain(&cors.allow_headers)
        .chain(&cors.expose_headers)
        .chain(&cors.allow_origins)
    {
        if !valid_header_value(value) {
            return Err(config.error(format!("{value:?} is not a valid CORS value")));
        }
    }
    Ok(cors)
}
