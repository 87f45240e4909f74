//! From a decision to the concrete edits a proxy makes: header edits, host and path
//! rewrites, mirrors, timeouts, retries, CORS, and the proxy's own replies with their
//! Location. Pure, like the evaluator, so the plugin and the in-process test engine
//! execute the very same plan.

use std::borrow::Cow;

use super::{Decision, Outcome, Request, normalize_host};
use crate::format::{NONE, cors_flag, op, section};
use crate::program::Program;

/// How a header is edited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderEdit {
    /// Replace every value with this one.
    Set,
    /// Append a value.
    Add,
    /// Remove every value.
    Remove,
}

/// One header edit, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderOp<'p> {
    pub edit: HeaderEdit,
    pub name: &'p str,
    pub value: Cow<'p, str>,
}

/// Applies header edits, in order, to a header list with lowercase names, the way Envoy
/// edits a header map: set replaces every value (appending at the end), add appends,
/// remove drops every value.
pub fn apply_header_ops(headers: &mut Vec<(String, String)>, ops: &[HeaderOp<'_>]) {
    for op in ops {
        match op.edit {
            HeaderEdit::Set => {
                headers.retain(|(n, _)| !n.eq_ignore_ascii_case(op.name));
                headers.push((op.name.to_string(), op.value.to_string()));
            }
            HeaderEdit::Add => headers.push((op.name.to_string(), op.value.to_string())),
            HeaderEdit::Remove => headers.retain(|(n, _)| !n.eq_ignore_ascii_case(op.name)),
        }
    }
}

/// A reply the proxy makes itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply<'p> {
    pub status: u16,
    pub body: Option<&'p str>,
    /// Headers of the reply itself (Location, CORS preflight answers).
    pub headers: Vec<(&'static str, String)>,
}

/// A copy of the request sent to another cluster; its answer is ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mirror<'p> {
    pub cluster: &'p str,
    pub backend: u32,
}

/// A retry policy for the proxy's router.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry<'p> {
    pub attempts: u32,
    /// Envoy `retry_on` conditions, comma-separated.
    pub retry_on: &'p str,
    /// Comma-separated status codes for `retriable-status-codes`.
    pub codes: Option<&'p str>,
}

/// Istio's default retry policy (`route/retry/retry.go`), what a VirtualService route
/// without `retries` gets: 2 retries on these conditions, no status codes. One of the
/// two routing routes the attachments carry has it as its own policy; see
/// [`default_retry_header`].
pub const ISTIO_DEFAULT_RETRY: Retry<'static> = Retry {
    attempts: 2,
    retry_on: "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes",
    codes: None,
};

/// The second routing header: a request whose policy is [`ISTIO_DEFAULT_RETRY`] names
/// its cluster here instead of in the routing header, and so takes the routing route
/// that has that policy as its own; one header write either way. The attachments'
/// routes, the plugin and the test engines all name it with this function.
pub fn default_retry_header(routing_header: &str) -> String {
    format!("{routing_header}-default-retry")
}

/// Everything a proxy does with one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan<'p> {
    /// Forward to this cluster; `None` when the proxy answers itself.
    pub cluster: Option<&'p str>,
    /// The backend record chosen (also for an unresolved share answered 500).
    pub backend: Option<u32>,
    pub reply: Option<Reply<'p>>,
    /// The new `:authority`, if rewritten.
    pub authority: Option<String>,
    /// The new `:path` (with the query), if rewritten.
    pub path: Option<String>,
    pub request_headers: Vec<HeaderOp<'p>>,
    /// Edits to the response the client receives, whoever made it (the upstream or the
    /// proxy): the plugin applies them when the response headers pass through it.
    pub response_headers: Vec<HeaderOp<'p>>,
    pub mirrors: Vec<Mirror<'p>>,
    /// Whole-request timeout; `Some(0)` disables it.
    pub request_timeout_ms: Option<u32>,
    /// Per-attempt timeout.
    pub backend_timeout_ms: Option<u32>,
    pub retry: Option<Retry<'p>>,
    /// Injected delay before forwarding (fault injection).
    pub delay_ms: Option<u32>,
}

/// Mixes the request's random number with an op index so that each mirror draws its own
/// share independently of the backend choice (SplitMix64 finaliser).
fn draw(random: u64, salt: u32) -> u64 {
    let mut z = random ^ (u64::from(salt) + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Program {
    /// The edits for `decision` (made by [`Program::evaluate`] for `request`).
    pub fn plan<'p>(&'p self, decision: &Decision<'p>, request: &Request<'_>) -> Plan<'p> {
        let mut plan = Plan::default();
        let Some(entry) = decision.entry else {
            if let Outcome::Reply { status, body, .. } = decision.outcome {
                plan.reply = Some(Reply {
                    status,
                    body,
                    headers: Vec::new(),
                });
            }
            return plan;
        };
        let action = self.word(section::ENTRIES, entry, 2);
        let start = self.word(section::ACTIONS, action, 0);
        let len = self.word(section::ACTIONS, action, 1);
        let terminal = start.saturating_add(len).saturating_sub(1);
        for o in start..terminal {
            self.apply_op(o, request, &mut plan);
            if plan.reply.is_some() {
                // A CORS preflight or an injected abort answered: nothing else applies
                // but the response edits.
                plan.request_headers.clear();
                plan.mirrors.clear();
                plan.authority = None;
                plan.path = None;
                return plan;
            }
        }
        match decision.outcome {
            Outcome::Forward { backend, cluster } => {
                plan.cluster = Some(cluster);
                plan.backend = Some(backend);
                let op_start = self.word(section::BACKENDS, backend, 3);
                let op_len = self.word(section::BACKENDS, backend, 4);
                for o in op_start..op_start.saturating_add(op_len) {
                    self.apply_op(o, request, &mut plan);
                }
            }
            Outcome::Reply {
                status,
                body,
                backend,
            } => {
                plan.backend = backend;
                plan.reply = Some(Reply {
                    status,
                    body,
                    headers: Vec::new(),
                });
            }
            // Left to the proxy: no edits (an unknown host has no entry, so this is
            // never reached with one).
            Outcome::Pass => {}
            Outcome::Redirect { status, backend } => {
                // A backend's own redirect: its filters (the redirect's path change among
                // them) apply first, then its REDIRECT op makes the Location.
                let redirect = match backend {
                    Some(backend) => {
                        let op_start = self.word(section::BACKENDS, backend, 3);
                        let op_len = self.word(section::BACKENDS, backend, 4);
                        let last = op_start.saturating_add(op_len).saturating_sub(1);
                        for o in op_start..last {
                            self.apply_op(o, request, &mut plan);
                        }
                        plan.backend = Some(backend);
                        last
                    }
                    None => terminal,
                };
                let location = self.location(redirect, request, plan.path.take());
                plan.reply = Some(Reply {
                    status,
                    body: None,
                    headers: vec![("location", location)],
                });
            }
        }
        if plan.reply.is_some() {
            // Nothing is forwarded: request edits and mirrors have nothing to act on.
            plan.request_headers.clear();
            plan.mirrors.clear();
            plan.authority = None;
        }
        plan
    }

    fn apply_op<'p>(&'p self, o: u32, request: &Request<'_>, plan: &mut Plan<'p>) {
        let head = self.word(section::OPS, o, 0);
        let (a, b, c) = (
            self.word(section::OPS, o, 1),
            self.word(section::OPS, o, 2),
            self.word(section::OPS, o, 3),
        );
        let edit = |edit| HeaderOp {
            edit,
            name: self.string(a),
            value: Cow::Borrowed(self.string(b)),
        };
        match (head & 0xFF) as u8 {
            op::REQUEST_SET => plan.request_headers.push(edit(HeaderEdit::Set)),
            op::REQUEST_ADD => plan.request_headers.push(edit(HeaderEdit::Add)),
            op::REQUEST_REMOVE => plan.request_headers.push(HeaderOp {
                value: Cow::Borrowed(""),
                ..edit(HeaderEdit::Remove)
            }),
            op::RESPONSE_SET => plan.response_headers.push(edit(HeaderEdit::Set)),
            op::RESPONSE_ADD => plan.response_headers.push(edit(HeaderEdit::Add)),
            op::RESPONSE_REMOVE => plan.response_headers.push(HeaderOp {
                value: Cow::Borrowed(""),
                ..edit(HeaderEdit::Remove)
            }),
            op::SET_HOST => plan.authority = Some(self.string(a).to_string()),
            op::SET_PATH => {
                let current = plan.path.as_deref().unwrap_or(request.path);
                plan.path = Some(with_query(self.string(a), current));
            }
            op::REPLACE_PREFIX => {
                let current = plan.path.as_deref().unwrap_or(request.path);
                plan.path = Some(if head & op::PLAIN != 0 {
                    replace_plain_prefix(current, self.string(a), self.string(b))
                } else {
                    replace_prefix(current, self.string(a), self.string(b))
                });
            }
            op::REGEX_REWRITE => {
                let current = plan.path.as_deref().unwrap_or(request.path);
                let (path, query) = current.split_at(current.find('?').unwrap_or(current.len()));
                if let Some(regex) = self.regexes.get(a as usize) {
                    plan.path = Some(format!("{}{query}", regex.replace_all(path, self.string(b))));
                }
            }
            op::FAULT_ABORT if draw(request.random, o) % 1_000_000 < u64::from(b) => {
                plan.reply = Some(Reply {
                    status: a as u16,
                    body: None,
                    headers: Vec::new(),
                });
            }
            op::FAULT_DELAY if draw(request.random, o) % 1_000_000 < u64::from(b) => plan.delay_ms = Some(a),
            op::MIRROR => {
                let cluster = self.word(section::BACKENDS, a, 2);
                // Envoy drops a mirror to a cluster it does not have.
                if cluster != NONE
                    && self.missing_cluster(a).is_none()
                    && draw(request.random, o) % 1_000_000 < u64::from(b)
                {
                    plan.mirrors.push(Mirror {
                        cluster: self.string(cluster),
                        backend: a,
                    });
                }
            }
            op::TIMEOUT => {
                plan.request_timeout_ms = (a != NONE).then_some(a).or(plan.request_timeout_ms);
                plan.backend_timeout_ms = (b != NONE).then_some(b).or(plan.backend_timeout_ms);
            }
            op::RETRY => {
                plan.retry = Some(Retry {
                    attempts: a,
                    retry_on: self.string(b),
                    codes: (c != NONE).then(|| self.string(c)),
                });
            }
            op::CORS => self.cors(a, request, plan),
            _ => {}
        }
    }

    /// Gateway API RequestRedirect: unset parts come from the request; the port is the
    /// one set, else the scheme's well-known port when the scheme is set, else the
    /// listener's; `:80` for http and `:443` for https are left out of the Location. The
    /// query string is kept.
    fn location(&self, o: u32, request: &Request<'_>, path: Option<String>) -> String {
        let head = self.word(section::OPS, o, 0);
        let (a, b, c) = (
            self.word(section::OPS, o, 1),
            self.word(section::OPS, o, 2),
            self.word(section::OPS, o, 3),
        );
        let scheme = if b != NONE {
            self.string(b)
        } else if request.scheme.is_empty() {
            "http"
        } else {
            request.scheme
        };
        let path = path.unwrap_or_else(|| request.path.to_string());
        let explicit_port = a >> 16;
        // Istio without derivePort: no host and no port set keeps the authority as sent,
        // port included (`b:80` stays `b:80`).
        if head & op::KEEP_AUTHORITY != 0 && c == NONE && explicit_port == 0 {
            return format!("{scheme}://{}{path}", request.authority);
        }
        let host = if c != NONE {
            self.string(c)
        } else {
            normalize_host(request.authority)
        };
        let port = match explicit_port {
            0 if head & op::LISTENER_PORT != 0 => Some(request.port),
            0 if head & (op::PROTOCOL_PORT | op::KEEP_AUTHORITY) != 0 => None,
            0 if b != NONE => None,
            0 => Some(request.port),
            port => Some(port),
        };
        let default_port = if scheme == "https" { 443 } else { 80 };
        match port {
            Some(port) if port != default_port => format!("{scheme}://{host}:{port}{path}"),
            _ => format!("{scheme}://{host}{path}"),
        }
    }

    /// Gateway API HTTPCORSFilter. A request whose Origin is allowed gets the CORS
    /// response headers; a preflight (OPTIONS with Access-Control-Request-Method) is
    /// answered by the proxy itself. An origin not allowed gets no CORS headers.
    fn cors<'p>(&'p self, policy: u32, request: &Request<'_>, plan: &mut Plan<'p>) {
        let header = |name: &str| request.headers.get(name);
        let word = |w| self.word(section::CORS, policy, w);
        if word(0) & cors_flag::ENVOY != 0 {
            return self.envoy_cors(policy, request, plan);
        }
        let Some(origin) = header("origin") else { return };
        let credentials = word(0) & cors_flag::ALLOW_CREDENTIALS != 0;
        let origins = (word(1)..word(1).saturating_add(word(2)))
            .map(|i| self.string(self.word(section::STRING_REFS, i, 0)));
        let mut any_origin = false;
        let mut allowed = false;
        for pattern in origins {
            any_origin |= pattern == "*";
            allowed |= origin_matches(pattern, origin);
        }
        let preflight = request.method == "OPTIONS" && header("access-control-request-method").is_some();
        if !allowed {
            // "If the request `Origin` does not match the configured allowed origins, the
            // gateway returns 204/200 response but doesn't set the relevant cross-origin
            // response headers": a preflight is still the gateway's to answer, never the
            // backend's; any other request goes on without CORS headers.
            if preflight {
                plan.reply = Some(Reply {
                    status: 200,
                    body: None,
                    headers: Vec::new(),
                });
            }
            return;
        }
        // With credentials a wildcard may not be sent: echo the request's value instead.
        let allow_origin = if any_origin && !credentials {
            "*".to_string()
        } else {
            origin.to_string()
        };
        let (methods, headers, expose) = (self.string(word(3)), self.string(word(4)), self.string(word(5)));
        if preflight {
            let echo = |configured: &str, requested: Option<&str>| match configured {
                "*" if credentials => requested.unwrap_or("").to_string(),
                other => other.to_string(),
            };
            let mut headers_out = vec![("access-control-allow-origin", allow_origin)];
            let allow_methods = echo(methods, header("access-control-request-method"));
            if !allow_methods.is_empty() {
                headers_out.push(("access-control-allow-methods", allow_methods));
            }
            let allow_headers = echo(headers, header("access-control-request-headers"));
            if !allow_headers.is_empty() {
                headers_out.push(("access-control-allow-headers", allow_headers));
            }
            if !expose.is_empty() {
                headers_out.push(("access-control-expose-headers", expose.to_string()));
            }
            headers_out.push(("access-control-max-age", word(6).to_string()));
            if credentials {
                headers_out.push(("access-control-allow-credentials", "true".to_string()));
            }
            plan.reply = Some(Reply {
                status: 200,
                body: None,
                headers: headers_out,
            });
            return;
        }
        let mut set = |name: &'static str, value: Cow<'p, str>| {
            plan.response_headers.push(HeaderOp {
                edit: HeaderEdit::Set,
                name,
                value,
            });
        };
        set("access-control-allow-origin", Cow::Owned(allow_origin));
        if credentials {
            set("access-control-allow-credentials", Cow::Borrowed("true"));
        }
        if !expose.is_empty() {
            set("access-control-expose-headers", Cow::Borrowed(expose));
        }
    }
}

/// An allowOrigins entry against a request Origin (Gateway API `HTTPCORSFilter`): "The
/// `Origin` consists of a scheme and a host, with an optional port ... if not included,
/// port `80` is assumed for `http` scheme origins, and port `443` is assumed for `https`
/// origins"; "`*` is a greedy match to the _left_, including any number of DNS labels";
/// "A wildcard by itself matches all hosts"; `*` alone allows every origin. Schemes and
/// hosts compare ASCII case-insensitively. An Origin that is not `scheme://host[:port]`
/// (such as `null`) only matches an identical entry.
fn origin_matches(pattern: &str, origin: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    let (Some(want), Some(got)) = (Origin::parse(pattern), Origin::parse(origin)) else {
        return pattern.eq_ignore_ascii_case(origin);
    };
    if !want.scheme.eq_ignore_ascii_case(got.scheme) || want.port != got.port || got.host.is_empty() {
        return false;
    }
    if want.host == "*" {
        return true;
    }
    match want.host.strip_prefix('*') {
        // `*.bar.com`: at least one label before `.bar.com`.
        Some(suffix) => {
            got.host.len() > suffix.len()
                && got
                    .host
                    .get(got.host.len() - suffix.len()..)
                    .is_some_and(|s| s.eq_ignore_ascii_case(suffix))
        }
        None => want.host.eq_ignore_ascii_case(got.host),
    }
}

/// `scheme://host[:port]` with the port made explicit.
struct Origin<'a> {
    scheme: &'a str,
    host: &'a str,
    port: Option<u16>,
}

impl<'a> Origin<'a> {
    fn parse(text: &'a str) -> Option<Origin<'a>> {
        let (scheme, rest) = text.split_once("://")?;
        if rest.contains(['/', '?', '#', '@']) {
            return None;
        }
        // An IPv6 literal keeps its colons inside brackets.
        let host_end = if rest.starts_with('[') {
            rest.find(']')? + 1
        } else {
            rest.find(':').unwrap_or(rest.len())
        };
        let (host, after) = rest.split_at(host_end);
        let port = match after.strip_prefix(':') {
            Some(digits) => Some(digits.parse::<u16>().ok()?),
            None if after.is_empty() => None,
            None => return None,
        };
        let default_port = if scheme.eq_ignore_ascii_case("http") {
            Some(80)
        } else if scheme.eq_ignore_ascii_case("https") {
            Some(443)
        } else {
            None
        };
        Some(Origin {
            scheme,
            host,
            port: port.or(default_port),
        })
    }
}

/// `path` with the query string of `current` appended.
fn with_query(path: &str, current: &str) -> String {
    match current.find('?') {
        Some(q) => format!("{path}{}", &current[q..]),
        None => path.to_string(),
    }
}

/// Istio `rewrite.uri` on a prefix match: the matched string prefix is replaced as a
/// plain string (`/foo` -> `/bar` turns `/foobar` into `/barbar`).
pub fn replace_plain_prefix(current: &str, prefix: &str, replacement: &str) -> String {
    match current.strip_prefix(prefix) {
        Some(rest) => format!("{replacement}{rest}"),
        None => current.to_string(),
    }
}

/// Gateway API ReplacePrefixMatch, element-wise: with prefix `/foo`, `/foo/bar` becomes
/// `/xyz/bar` for replacement `/xyz` or `/xyz/`, `/foo` becomes `/xyz`, `/foo/` becomes
/// `/xyz/`; with an empty replacement `/foo/bar` becomes `/bar` and `/foo` becomes `/`.
pub fn replace_prefix(current: &str, prefix: &str, replacement: &str) -> String {
    let (path, query) = match current.find('?') {
        Some(q) => (&current[..q], &current[q..]),
        None => (current, ""),
    };
    let prefix = prefix.trim_end_matches('/');
    let rest = path.strip_prefix(prefix).unwrap_or(path);
    let replacement = replacement.trim_end_matches('/');
    let mut out = String::with_capacity(replacement.len() + rest.len() + query.len() + 1);
    out.push_str(replacement);
    out.push_str(rest);
    if !out.starts_with('/') {
        out.insert(0, '/');
    }
    out.push_str(query);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_prefix_match_follows_the_gateway_api_table() {
        for (request, prefix, replacement, expected) in [
            ("/foo/bar", "/foo", "/xyz", "/xyz/bar"),
            ("/foo/bar", "/foo/", "/xyz", "/xyz/bar"),
            ("/foo/bar", "/foo", "/xyz/", "/xyz/bar"),
            ("/foo", "/foo", "/xyz", "/xyz"),
            ("/foo/", "/foo", "/xyz", "/xyz/"),
            ("/foo/bar", "/foo", "", "/bar"),
            ("/foo", "/foo", "", "/"),
            ("/foo/", "/foo", "", "/"),
            ("/foo", "/foo", "/", "/"),
            ("/foo/", "/foo", "/", "/"),
            ("/bar?x=1", "/", "/api", "/api/bar?x=1"),
        ] {
            assert_eq!(
                replace_prefix(request, prefix, replacement),
                expected,
                "{request} {prefix} {replacement}"
            );
        }
    }

    #[test]
    fn full_path_replacement_keeps_the_query() {
        assert_eq!(with_query("/new", "/old?a=1"), "/new?a=1");
        assert_eq!(with_query("/new", "/old"), "/new");
    }

    #[test]
    fn cors_origin_patterns() {
        assert!(origin_matches("*", "https://a.com"));
        assert!(origin_matches("https://www.foo.com", "https://www.foo.com"));
        assert!(origin_matches("https://*.bar.com", "https://xpto.www.bar.com"));
        assert!(!origin_matches("https://*.bar.com", "https://bar.com"));
        assert!(!origin_matches("https://*.bar.com", "https://foobar.com"));
        assert!(!origin_matches("https://www.foo.com", "http://www.foo.com"));
    }

    #[test]
    fn cors_origins_assume_the_scheme_default_port() {
        assert!(origin_matches("https://www.foo.com", "https://www.foo.com:443"));
        assert!(origin_matches("http://www.foo.com:80", "http://www.foo.com"));
        assert!(!origin_matches("https://www.foo.com", "https://www.foo.com:8443"));
        assert!(origin_matches(
            "https://www.foo.com:8443",
            "https://WWW.foo.com:8443"
        ));
        assert!(!origin_matches("https://*.bar.com", "https://a.bar.com:8443"));
        assert!(origin_matches(
            "https://*.bar.com:8443",
            "https://a.b.bar.com:8443"
        ));
    }

    #[test]
    fn cors_wildcard_host_matches_every_host_of_its_scheme_and_port() {
        assert!(origin_matches("https://*", "https://anything.example"));
        assert!(!origin_matches("https://*", "http://anything.example"));
        assert!(!origin_matches("https://*", "https://anything.example:8443"));
        assert!(!origin_matches("https://*.bar.com", "https://.bar.com"));
    }

    #[test]
    fn cors_malformed_origins_only_match_themselves() {
        assert!(!origin_matches("https://www.foo.com", "null"));
        assert!(origin_matches("*", "null"));
        assert!(!origin_matches("https://*.bar.com", "https://x.bar.com/path"));
    }
}
