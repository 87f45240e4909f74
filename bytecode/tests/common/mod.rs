//! Small builders so tests read as the rule they pin: a program of listeners, a listener
//! of vhosts, a vhost of entries, an entry of a path, predicates and backends.
//!
//! Shared by several test binaries (and by the fuzz seed generator through `#[path]`),
//! each of which uses a different subset.
#![allow(dead_code)]

use switchyard_bytecode::ir::{
    ActionIr, BackendIr, CorsIr, EntryIr, EnvoyCorsIr, FilterIr, HostPattern, ListenerIr, OriginMatchIr,
    PathIr, PortDerivation, PredicateIr, ProgramIr, RedirectIr, ServiceIr, SourceIr, VhostIr,
};
use switchyard_bytecode::{Decision, Outcome, Program, Request, Scratch, SourceKind, write_program};

/// The listener port most tests use.
pub const PORT: u32 = 80;

// ---------------------------------------------------------------------------------------
// IR builders

/// A program with the given listeners.
pub fn program(listeners: Vec<ListenerIr>) -> ProgramIr {
    ProgramIr {
        routing_header: "x-switchyard-cluster".to_string(),
        target: "gateway test/gw".to_string(),
        listeners,
        pass_unknown_hosts: false,
    }
}

/// A listener on `port`.
pub fn listener(port: u32, vhosts: Vec<VhostIr>) -> ListenerIr {
    ListenerIr {
        port,
        vhosts,
        sni_hosts: Vec::new(),
    }
}

/// A vhost for `host` (`*`, `*.suffix` or an exact name) that falls back when none of
/// its entries match (the Gateway API behaviour).
pub fn vhost(host: &str, entries: Vec<EntryIr>) -> VhostIr {
    VhostIr {
        host: HostPattern::parse(host),
        fallback: true,
        entries,
    }
}

/// A vhost that does not fall back (the Istio behaviour).
pub fn vhost_no_fallback(host: &str, entries: Vec<EntryIr>) -> VhostIr {
    VhostIr {
        fallback: false,
        ..vhost(host, entries)
    }
}

/// A program with one listener on [`PORT`].
pub fn on_port(vhosts: Vec<VhostIr>) -> ProgramIr {
    program(vec![listener(PORT, vhosts)])
}

/// `Exact` path.
pub fn exact(path: &str) -> PathIr {
    PathIr::Exact(path.to_string())
}

/// `PathPrefix`, split into segments as the compiler does (a trailing `/` is ignored;
/// `/` has no segments).
pub fn prefix(path: &str) -> PathIr {
    PathIr::Prefix(
        path.split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
    )
}

/// `RegularExpression` path (the writer anchors it).
pub fn regex(pattern: &str) -> PathIr {
    PathIr::Regex(pattern.to_string())
}

/// An entry forwarding to one cluster with weight 1. The cluster also names the source,
/// so listings and `Program::source` show which entry won.
pub fn to(path: PathIr, cluster: &str) -> EntryIr {
    weighted(path, &[(1, Some(cluster))]).named(cluster)
}

/// An entry forwarding to weighted backends; `None` is a reference that did not resolve.
pub fn weighted(path: PathIr, backends: &[(u32, Option<&str>)]) -> EntryIr {
    let backends = backends
        .iter()
        .map(|&(weight, cluster)| BackendIr {
            weight,
            cluster: cluster.map(str::to_string),
            service: cluster.map(|c| ServiceIr {
                namespace: "default".to_string(),
                name: c.to_string(),
                port: 8080,
            }),
            filters: Vec::new(),
            redirect: None,
        })
        .collect();
    entry(path, ActionIr::Forward(backends))
}

/// An entry answering locally.
pub fn reply(path: PathIr, status: u16, body: Option<&str>) -> EntryIr {
    entry(
        path,
        ActionIr::Reply {
            status,
            body: body.map(str::to_string),
        },
    )
}

fn entry(path: PathIr, action: ActionIr) -> EntryIr {
    EntryIr {
        path,
        predicates: Vec::new(),
        filters: Vec::new(),
        action,
        source: SourceIr {
            kind: SourceKind::HttpRoute,
            namespace: "default".to_string(),
            name: "route".to_string(),
            rule: 0,
            match_index: 0,
        },
    }
}

/// Chained additions to an entry.
pub trait EntryExt {
    /// Adds one ANDed predicate.
    fn with(self, predicate: PredicateIr) -> Self;
    /// Sets the source route name.
    fn named(self, name: &str) -> Self;
    /// Sets the source rule and match index.
    fn rule(self, rule: u16, match_index: u16) -> Self;
}

impl EntryExt for EntryIr {
    fn with(mut self, predicate: PredicateIr) -> Self {
        self.predicates.push(predicate);
        self
    }

    fn named(mut self, name: &str) -> Self {
        self.source.name = name.to_string();
        self
    }

    fn rule(mut self, rule: u16, match_index: u16) -> Self {
        self.source.rule = rule;
        self.source.match_index = match_index;
        self
    }
}

pub fn method(m: &str) -> PredicateIr {
    PredicateIr::Method(m.to_string())
}

pub fn header(name: &str, value: &str) -> PredicateIr {
    PredicateIr::HeaderExact {
        name: name.to_string(),
        value: value.to_string(),
    }
}

pub fn header_regex(name: &str, pattern: &str) -> PredicateIr {
    PredicateIr::HeaderRegex {
        name: name.to_string(),
        pattern: pattern.to_string(),
    }
}

pub fn header_present(name: &str) -> PredicateIr {
    PredicateIr::HeaderPresent(name.to_string())
}

pub fn header_absent(name: &str) -> PredicateIr {
    PredicateIr::HeaderAbsent(name.to_string())
}

pub fn query(name: &str, value: &str) -> PredicateIr {
    PredicateIr::QueryExact {
        name: name.to_string(),
        value: value.to_string(),
    }
}

pub fn query_regex(name: &str, pattern: &str) -> PredicateIr {
    PredicateIr::QueryRegex {
        name: name.to_string(),
        pattern: pattern.to_string(),
    }
}

// ---------------------------------------------------------------------------------------
// Writing and loading

/// Writes and loads `ir`, panicking (failing the test) on either error.
pub fn load(ir: &ProgramIr) -> Program {
    let bytes = write_program(ir).expect("write_program");
    Program::from_bytes(&bytes).expect("from_bytes")
}

/// Writes `ir`, panicking on error.
pub fn bytes_of(ir: &ProgramIr) -> Vec<u8> {
    write_program(ir).expect("write_program")
}

// ---------------------------------------------------------------------------------------
// Requests

/// An owned request, turned into a [`Request`] view to evaluate.
#[derive(Debug, Clone)]
pub struct Req {
    pub port: u32,
    pub authority: String,
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub random: u64,
    /// The TLS SNI, for a request over TLS.
    pub sni: Option<String>,
}

/// `GET http://{authority}{path}` on [`PORT`].
pub fn get(authority: &str, path: &str) -> Req {
    Req {
        port: PORT,
        authority: authority.to_string(),
        method: "GET".to_string(),
        path: path.to_string(),
        headers: Vec::new(),
        random: 0,
        sni: None,
    }
}

impl Req {
    pub fn port(mut self, port: u32) -> Self {
        self.port = port;
        self
    }

    pub fn method(mut self, method: &str) -> Self {
        self.method = method.to_string();
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn random(mut self, random: u64) -> Self {
        self.random = random;
        self
    }

    pub fn sni(mut self, sni: &str) -> Self {
        self.sni = Some(sni.to_string());
        self
    }

    pub fn view(&self) -> Request<'_> {
        Request {
            port: self.port,
            authority: &self.authority,
            method: &self.method,
            path: &self.path,
            scheme: "http",
            headers: (&self.headers).into(),
            random: self.random,
            sni: self.sni.as_deref(),
        }
    }

    /// Evaluates with a fresh scratch.
    pub fn eval<'p>(&self, program: &'p Program) -> Decision<'p> {
        program.evaluate(&self.view(), &mut Scratch::new())
    }

    /// Evaluates and summarises the outcome: the cluster name, or `status NNN`.
    pub fn route(&self, program: &Program) -> String {
        outcome(&self.eval(program))
    }
}

/// `cluster` for a forward, `status NNN` for a local reply.
pub fn outcome(decision: &Decision<'_>) -> String {
    match decision.outcome {
        Outcome::Forward { cluster, .. } => cluster.to_string(),
        Outcome::Reply { status, .. } => format!("status {status}"),
        Outcome::Redirect { status, .. } => format!("redirect {status}"),
        Outcome::Pass => "pass".to_string(),
    }
}

/// A handful of requests of every shape (ports, hosts, methods, headers, queries) for
/// running a program that loaded, whatever it contains.
pub fn probe_requests() -> Vec<Req> {
    let mut requests = vec![
        get("foo.example.com", "/"),
        get("foo.example.com:80", "/api/v1/items?x=1&version=v2"),
        get("a.b.example.com", "/static/css/site.css"),
        get("FOO.EXAMPLE.COM", "/exact")
            .method("POST")
            .header("x-canary", "true"),
        get("other.test", "/u/42/profile?q=hello%20world")
            .header("x-env", "prod")
            .header("x-env", "canary"),
        get("", "").method("").random(u64::MAX),
        get("[::1]:8080", "//a//b/../c?&&=&%zz=%")
            .port(8080)
            .header("x-canary", "false"),
        get(".example.com", "/api?version=v2#frag").port(443).random(7),
    ];
    for port in [0, 1, 81, u32::MAX] {
        requests.push(get("x.example.com", "/api").port(port));
    }
    requests
}

/// Evaluates every probe request (with one reused scratch) and lists the program, so
/// any panic on a loaded program surfaces.
pub fn exercise(program: &Program) {
    let mut scratch = Scratch::new();
    for request in probe_requests() {
        let decision = program.evaluate(&request.view(), &mut scratch);
        if let Some(entry) = decision.entry {
            assert!(entry < program.entry_count());
            let _ = program.source(entry);
        }
        match decision.outcome {
            Outcome::Forward { backend, .. } => assert!(backend < program.backend_count()),
            Outcome::Reply { status, backend, .. } => {
                assert!((100..=599).contains(&status));
                if let Some(backend) = backend {
                    assert!(backend < program.backend_count());
                }
            }
            Outcome::Redirect { status, .. } => assert!([301, 302, 303, 307, 308].contains(&status)),
            Outcome::Pass => assert!(decision.entry.is_none() && program.passes_unknown_hosts()),
        }
        // Planning the edits must never panic either, whatever loaded.
        let plan = program.plan(&decision, &request.view());
        if decision.outcome == Outcome::Pass {
            // Left to the proxy: neither a reply nor a cluster.
            assert!(plan.reply.is_none() && plan.cluster.is_none());
        } else {
            assert_eq!(plan.reply.is_some(), plan.cluster.is_none());
        }
    }
    let _ = program.routing_header();
    let _ = program.needed_headers().count();
    let _ = program.listing();
}

// ---------------------------------------------------------------------------------------
// Sample programs

/// A program using every record kind: two listeners, exact/wildcard/catch-all vhosts with
/// and without fallback, exact/prefix/regex paths, every predicate, weighted and
/// unresolved backends, replies with and without a body.
pub fn full_program() -> ProgramIr {
    program(vec![
        listener(
            PORT,
            vec![
                vhost(
                    "foo.example.com",
                    vec![
                        to(exact("/exact"), "foo-exact").with(method("POST")).rule(0, 0),
                        to(prefix("/api/v1"), "foo-api")
                            .with(header("x-canary", "true"))
                            .rule(1, 0),
                        weighted(
                            prefix("/api"),
                            &[(3, Some("foo-a")), (1, Some("foo-b")), (0, Some("foo-c"))],
                        )
                        .named("foo-weighted")
                        .with(query("version", "v2")),
                        weighted(prefix("/broken"), &[(1, Some("foo-ok")), (1, None)]).named("foo-broken"),
                    ],
                ),
                vhost(
                    "*.example.com",
                    vec![
                        to(prefix("/static"), "wild-static").with(header_present("x-env")),
                        to(prefix("/static"), "wild-static-anon").with(header_absent("x-env")),
                        to(regex("/u/[0-9]+/profile"), "wild-profile")
                            .with(query_regex("q", "hello.*"))
                            .with(header_regex("x-env", "prod(,canary)?")),
                    ],
                ),
                vhost_no_fallback("*.b.example.com", vec![to(exact("/only"), "b-only")]),
                vhost(
                    "*",
                    vec![
                        reply(exact("/teapot"), 418, Some("short and stout")),
                        weighted(prefix("/none"), &[]).named("no-backends"),
                        weighted(prefix("/zero"), &[(0, Some("zero-a")), (0, Some("zero-b"))]).named("zero"),
                        to(prefix("/"), "default"),
                    ],
                ),
            ],
        ),
        listener(
            8080,
            vec![vhost("other.test", vec![reply(prefix("/"), 503, None)])],
        ),
    ])
}

/// A program that needs format 1.1: HTTPS listener hostnames checked against the SNI
/// on port 443, an Envoy CORS policy with every kind of origin matcher, and a backend
/// whose cluster does not exist.
pub fn format_1_1_program() -> ProgramIr {
    let mut https = listener(
        443,
        vec![
            vhost("a.example.com", vec![to(prefix("/"), "a")]),
            vhost("*.example.com", vec![to(prefix("/"), "wild")]),
            vhost("*", vec![to(prefix("/"), "any")]),
        ],
    );
    https.sni_hosts = vec![
        HostPattern::parse("a.example.com"),
        HostPattern::parse("*.example.com"),
        HostPattern::Any,
    ];
    let mut cors = to(prefix("/cors"), "cors");
    cors.filters.push(FilterIr::Cors(CorsIr {
        allow_methods: vec!["GET".to_string(), "POST".to_string()],
        allow_headers: vec!["x-a".to_string()],
        expose_headers: vec!["x-b".to_string()],
        max_age_seconds: 60,
        allow_credentials: true,
        envoy: Some(EnvoyCorsIr {
            origins: vec![
                OriginMatchIr::Exact("https://exact.example".to_string()),
                OriginMatchIr::Prefix("https://prefix.".to_string()),
                OriginMatchIr::Regex(r"https://[a-z]+\.regex\.example".to_string()),
            ],
            forward_unmatched_preflights: true,
            send_max_age: true,
        }),
        ..CorsIr::default()
    }));
    let mut subsets = weighted(
        prefix("/subset"),
        &[(1, Some("outbound|80|v1|svc")), (1, Some("outbound|80|v9|svc"))],
    )
    .named("subsets");
    if let ActionIr::Forward(backends) = &mut subsets.action {
        backends[1].filters.push(FilterIr::NoCluster { status: 503 });
    }
    program(vec![
        listener(
            PORT,
            vec![vhost("*", vec![cors, subsets, to(prefix("/"), "plain")])],
        ),
        https,
    ])
}

/// A program that needs format 1.2: `/` split evenly between a backend forwarding to
/// `a` and one that sets the path to `/new` and redirects to `moved.example` (308).
pub fn format_1_2_program() -> ProgramIr {
    let mut entry = to(prefix("/"), "a");
    let ActionIr::Forward(backends) = &mut entry.action else {
        unreachable!()
    };
    let mut redirecting = backends[0].clone();
    redirecting.cluster = Some("b".to_string());
    redirecting.filters.push(FilterIr::SetPath("/new".to_string()));
    redirecting.redirect = Some(Box::new(RedirectIr {
        status: 308,
        scheme: None,
        host: Some("moved.example".to_string()),
        port: None,
        derive: PortDerivation::GatewayApi,
    }));
    backends.push(redirecting);
    on_port(vec![vhost("*", vec![entry])])
}

/// Small programs of different shapes, for mutation and seeds.
pub fn sample_programs() -> Vec<ProgramIr> {
    vec![
        full_program(),
        format_1_1_program(),
        format_1_2_program(),
        on_port(vec![vhost("*", vec![to(prefix("/"), "only")])]),
        program(Vec::new()),
        on_port(vec![vhost(
            "a.example.com",
            vec![
                to(exact("/a"), "a1"),
                to(exact("/a"), "a2").with(method("GET")),
                to(prefix("/a/b/c"), "abc"),
                to(prefix("/a/b"), "ab"),
                to(regex("/a/.*"), "re1"),
                to(regex("/b/.*"), "re2"),
            ],
        )]),
    ]
}
