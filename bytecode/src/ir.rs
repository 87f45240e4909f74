//! The program as the compiler hands it to the writer: plain data in evaluation order,
//! with no layout decisions. The writer turns it into indexed bytecode.

/// A whole program for one proxy target.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProgramIr {
    /// Header the plugin sets to the chosen cluster (lowercase).
    pub routing_header: String,
    /// What the program was compiled for, e.g. `gateway ns/name`.
    pub target: String,
    pub listeners: Vec<ListenerIr>,
    /// Leave a request whose host (or port) the program has no vhost for to the proxy's
    /// own routes rather than answer 404: a sidecar passes such traffic through.
    pub pass_unknown_hosts: bool,
}

/// One listening port and the virtual hosts reachable on it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListenerIr {
    pub port: u32,
    /// At most one vhost per host pattern.
    pub vhosts: Vec<VhostIr>,
    /// The hostnames of the HTTPS listeners on this port (`Any` for one without
    /// hostname), when requests must be checked for misdirection: a request whose Host
    /// belongs to another of these listeners than its TLS SNI selected is answered 421
    /// (Gateway API `GatewayHTTPSListenerDetectMisdirectedRequests`). Empty: no check.
    pub sni_hosts: Vec<HostPattern>,
}

/// The rules that serve one host pattern, already in evaluation order: the first entry
/// that matches a request wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VhostIr {
    pub host: HostPattern,
    /// When no entry matches, try the next less specific host pattern that also matches
    /// the request (Gateway API: rules of all hostnames compete, longest hostname first).
    /// Istio's virtual hosts do not fall back.
    pub fallback: bool,
    pub entries: Vec<EntryIr>,
}

/// Which request hosts a vhost serves. Patterns are lowercase.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HostPattern {
    /// One exact name, e.g. `foo.example.com`.
    Exact(String),
    /// `*.example.com`, stored as the suffix `.example.com`: any host ending in it with at
    /// least one more label.
    Wildcard(String),
    /// Every host.
    Any,
}

impl HostPattern {
    /// Reads `*`, `*.suffix` or an exact name (lowercased).
    pub fn parse(text: &str) -> HostPattern {
        let lower = text.to_ascii_lowercase();
        if lower == "*" {
            HostPattern::Any
        } else if let Some(suffix) = lower.strip_prefix('*') {
            HostPattern::Wildcard(suffix.to_string())
        } else {
            HostPattern::Exact(lower)
        }
    }
}

impl core::fmt::Display for HostPattern {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            HostPattern::Exact(name) => f.write_str(name),
            HostPattern::Wildcard(suffix) => write!(f, "*{suffix}"),
            HostPattern::Any => f.write_str("*"),
        }
    }
}

/// One match of one rule, with everything needed to decide and act.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryIr {
    pub path: PathIr,
    /// All must hold (ANDed).
    pub predicates: Vec<PredicateIr>,
    /// Applied in order when the entry wins, before the action.
    pub filters: Vec<FilterIr>,
    pub action: ActionIr,
    pub source: SourceIr,
}

/// How an entry constrains the path (the part before `?`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathIr {
    /// The whole path, byte for byte.
    Exact(String),
    /// Segment-wise prefix: the segments of the value (empty for `/`).
    Prefix(Vec<String>),
    /// A regex that must match the whole path (the writer anchors it).
    Regex(String),
    /// A plain string prefix (Istio `uri.prefix`: `/foo` matches `/foobar`).
    StringPrefix(String),
}

/// A condition on the request besides its path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PredicateIr {
    Method(String),
    /// Header names are lowercase.
    HeaderExact {
        name: String,
        value: String,
    },
    HeaderRegex {
        name: String,
        pattern: String,
    },
    HeaderPresent(String),
    HeaderAbsent(String),
    QueryExact {
        name: String,
        value: String,
    },
    QueryRegex {
        name: String,
        pattern: String,
    },
    HeaderPrefix {
        name: String,
        value: String,
    },
    QueryPrefix {
        name: String,
        value: String,
    },
    QueryPresent(String),
    /// The path (before `?`) starts with this string.
    PathPrefix(String),
    /// The path (before `?`) equals this string.
    PathExact(String),
    /// Holds when the inner predicate does not (Istio `withoutHeaders`).
    Not(Box<PredicateIr>),
    /// The inner path or header comparison ignores ASCII case (Istio `ignoreUriCase`).
    IgnoreCase(Box<PredicateIr>),
}

/// What happens when an entry wins, after its filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionIr {
    /// Forward to one of these, chosen by weight; a share with no cluster is answered 500.
    Forward(Vec<BackendIr>),
    /// Answer locally.
    Reply { status: u16, body: Option<String> },
    /// Answer with a redirect; the Location's path is the request's after the entry's
    /// path filters.
    Redirect(RedirectIr),
}

/// One weighted backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendIr {
    pub weight: u32,
    /// The Envoy cluster; `None` when the reference did not resolve (answered with 500).
    pub cluster: Option<String>,
    pub service: Option<ServiceIr>,
    /// Applied after the entry's filters when this backend is chosen.
    pub filters: Vec<FilterIr>,
    /// Answer with this redirect instead of forwarding when this backend is chosen
    /// (an HTTPRoute backendRef's RequestRedirect; its path change is in `filters`).
    /// (Boxed: most backends have none, and every one is moved around by value.)
    pub redirect: Option<Box<RedirectIr>>,
}

/// A redirect's parts; unset parts come from the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectIr {
    pub status: u16,
    pub scheme: Option<String>,
    pub host: Option<String>,
    /// `None`: derived by `derive`.
    pub port: Option<u16>,
    pub derive: PortDerivation,
}

/// Where a redirect's port comes from when none is set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PortDerivation {
    /// Gateway API: the scheme's well-known port when the scheme is set, else the
    /// listener's.
    #[default]
    GatewayApi,
    /// Istio without `derivePort`: keep the request's authority, port included, unless
    /// a host is set.
    KeepAuthority,
    /// Istio `FROM_PROTOCOL_DEFAULT`: the scheme's default port (left out).
    ProtocolDefault,
    /// Istio `FROM_REQUEST_PORT`: the listener's port.
    ListenerPort,
}

/// A header edit; names are lowercase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderEditIr {
    Set(String, String),
    Add(String, String),
    Remove(String),
}

/// A step applied to a request (or its response) before the action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterIr {
    RequestHeader(HeaderEditIr),
    ResponseHeader(HeaderEditIr),
    SetHost(String),
    /// Replace the whole path; the query is kept.
    SetPath(String),
    /// Replace the matched prefix element-wise (Gateway API ReplacePrefixMatch).
    ReplacePrefix {
        prefix: String,
        replacement: String,
    },
    /// Copy the request to `backend` for `per_million` of requests (an unresolved
    /// backend is never mirrored to).
    Mirror {
        backend: BackendIr,
        per_million: u32,
    },
    /// Milliseconds; `Some(0)` disables the timeout.
    Timeout {
        request_ms: Option<u32>,
        backend_ms: Option<u32>,
    },
    /// Retry up to `attempts` times on Envoy `retry_on` conditions (comma-separated);
    /// `codes` for `retriable-status-codes`.
    Retry {
        attempts: u32,
        retry_on: String,
        codes: Vec<u16>,
    },
    Cors(CorsIr),
    /// Replace the matched prefix as plain strings (Istio `rewrite.uri` on a prefix match).
    ReplacePrefixPlain {
        prefix: String,
        replacement: String,
    },
    /// Replace every regex match in the path (Istio `uriRegexRewrite`; `\1` captures).
    RegexRewrite {
        pattern: String,
        replacement: String,
    },
    /// Answer `status` instead of forwarding for this share of requests.
    FaultAbort {
        status: u16,
        per_million: u32,
    },
    /// Delay forwarding by `delay_ms` for this share of requests.
    FaultDelay {
        delay_ms: u32,
        per_million: u32,
    },
    /// Only among a backend's filters: its cluster does not exist on the proxy (an Istio
    /// subset that the DestinationRule in force does not define), so choosing it answers
    /// `status` (Envoy's 503 for a cluster it does not know).
    NoCluster {
        status: u16,
    },
}

/// A CORS policy (Gateway API HTTPCORSFilter).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorsIr {
    /// `scheme://host[:port]`, `*`, or with a `*` wildcard in the host.
    pub allow_origins: Vec<String>,
    pub allow_credentials: bool,
    pub allow_methods: Vec<String>,
    pub allow_headers: Vec<String>,
    pub expose_headers: Vec<String>,
    pub max_age_seconds: u32,
    /// `Some`: the policy follows Envoy's CORS filter (Istio `corsPolicy`) rather than
    /// the Gateway API filter; `allow_origins` is then unused.
    pub envoy: Option<EnvoyCorsIr>,
}

/// What an Envoy CORS policy adds to [`CorsIr`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvoyCorsIr {
    /// Envoy string matchers against the Origin; one that matches the literal `*`
    /// allows every origin (Envoy's `isOriginAllowed`).
    pub origins: Vec<OriginMatchIr>,
    /// A preflight from an origin not allowed goes on to the route (Istio
    /// `unmatchedPreflights: FORWARD`, the default) instead of being answered 200.
    pub forward_unmatched_preflights: bool,
    /// Send `access-control-max-age` (Istio `maxAge` set).
    pub send_max_age: bool,
}

/// An Envoy `StringMatcher` for an Origin; all case-sensitive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginMatchIr {
    Exact(String),
    Prefix(String),
    /// Must match the whole Origin (the writer anchors it).
    Regex(String),
}

/// A Kubernetes service port.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServiceIr {
    pub namespace: String,
    pub name: String,
    pub port: u32,
}

/// Where an entry came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceIr {
    pub kind: crate::SourceKind,
    pub namespace: String,
    pub name: String,
    pub rule: u16,
    pub match_index: u16,
}
