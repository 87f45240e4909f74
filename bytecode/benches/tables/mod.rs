//! Realistic route tables of any size, with one request per rule that hits exactly that
//! rule, for benchmarks (and anything else that wants a big program).
//!
//! A table of `n` rules has `ceil(n / 40)` hosts of up to 40 rules each. Three hosts in
//! four are exact names (`s{h}.example.com`), one in four a wildcard
//! (`*.w{h}.example.net`). Within a host, rules cycle through ten shapes:
//!
//! | `j % 10` | path                          | also                               |
//! |----------|-------------------------------|------------------------------------|
//! | 0, 1     | exact `/api/v{1,2}/r{j}`      |                                    |
//! | 2        | exact `/api/v1/r{j}/submit`   | method `POST`                      |
//! | 3, 4     | prefix `/app/r{j}/v{1,2}`     |                                    |
//! | 5        | prefix `/tenant/r{j}`         | header `x-tenant: t{j}`            |
//! | 6        | prefix `/search/r{j}`         | query `version=v{j}`               |
//! | 7        | prefix `/user/r{j}`           | header `x-user` ~ `u[0-9]{1,8}`    |
//! | 8        | prefix `/static/r{j}`         |                                    |
//! | 9        | regex `/h{h}/users/[0-9]+/r{j}` when `j % 20 == 9`, else prefix `/docs/r{j}` |
//!
//! Backends: one to three per rule, drawn from four services per host, weights such as
//! 80/20 or 50/30/20. Every rule's source is `route-{h}` rule `j`, so a decision can be
//! checked against the rule its probe was built for.

use switchyard_bytecode::ir::{
    ActionIr, BackendIr, EntryIr, HostPattern, ListenerIr, PathIr, PredicateIr, ProgramIr, ServiceIr,
    SourceIr, VhostIr,
};
use switchyard_bytecode::{Program, Request, SourceKind};

/// Rules per host.
pub const RULES_PER_HOST: usize = 40;
/// The one listener port.
pub const PORT: u32 = 80;

/// A generated table and a request for each of its rules.
#[derive(Debug)]
pub struct Table {
    pub ir: ProgramIr,
    /// `probes[i]` hits rule `i` (rules numbered host by host, in evaluation order).
    pub probes: Vec<Probe>,
}

/// An owned request and the rule it must hit (`None`: a miss, answered 404).
#[derive(Debug, Clone)]
pub struct Probe {
    pub authority: String,
    pub method: &'static str,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub expect: Option<(String, u32)>,
}

impl Probe {
    pub fn request(&self) -> Request<'_> {
        Request {
            port: PORT,
            authority: &self.authority,
            method: self.method,
            path: &self.path,
            scheme: "http",
            headers: (&self.headers).into(),
            random: 0x9E37_79B9_7F4A_7C15,
            sni: None,
        }
    }

    /// Panics unless `program` decides this probe as expected.
    pub fn check(&self, program: &Program) {
        let mut scratch = switchyard_bytecode::Scratch::new();
        let decision = program.evaluate(&self.request(), &mut scratch);
        let got = decision.entry.map(|e| {
            let source = program.source(e);
            (source.name.to_string(), source.rule)
        });
        assert_eq!(got, self.expect, "probe {self:?}");
    }
}

fn host_pattern(h: usize) -> (HostPattern, String) {
    if h % 4 == 3 {
        (
            HostPattern::Wildcard(format!(".w{h}.example.net")),
            format!("api.w{h}.example.net"),
        )
    } else {
        (
            HostPattern::Exact(format!("s{h}.example.com")),
            format!("s{h}.example.com"),
        )
    }
}

fn backends(h: usize, j: usize) -> Vec<BackendIr> {
    let weights: &[u32] = match j % 4 {
        0 => &[1],
        1 => &[80, 20],
        2 => &[50, 30, 20],
        _ => &[100, 0],
    };
    weights
        .iter()
        .enumerate()
        .map(|(k, &weight)| {
            let service = (j + k) % 4;
            BackendIr {
                weight,
                cluster: Some(format!("outbound|8080||svc-{service}.ns-{h}.svc.cluster.local")),
                service: Some(ServiceIr {
                    namespace: format!("ns-{h}"),
                    name: format!("svc-{service}"),
                    port: 8080,
                }),
                filters: Vec::new(),
                redirect: None,
            }
        })
        .collect()
}

fn segments(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Rule `j` of host `h` and a request that hits it.
fn rule(h: usize, j: usize, authority: &str) -> (EntryIr, Probe) {
    let mut probe = Probe {
        authority: authority.to_string(),
        method: "GET",
        path: String::new(),
        headers: Vec::new(),
        expect: Some((format!("route-{h}"), j as u32)),
    };
    let mut predicates = Vec::new();
    let path = match j % 10 {
        0 | 1 => {
            let p = format!("/api/v{}/r{j}", j % 10 + 1);
            probe.path = p.clone();
            PathIr::Exact(p)
        }
        2 => {
            let p = format!("/api/v1/r{j}/submit");
            predicates.push(PredicateIr::Method("POST".to_string()));
            probe.method = "POST";
            probe.path = p.clone();
            PathIr::Exact(p)
        }
        3 | 4 => {
            let p = format!("/app/r{j}/v{}", j % 10 - 2);
            probe.path = format!("{p}/items/42");
            PathIr::Prefix(segments(&p))
        }
        5 => {
            let p = format!("/tenant/r{j}");
            predicates.push(PredicateIr::HeaderExact {
                name: "x-tenant".into(),
                value: format!("t{j}"),
            });
            probe.headers.push(("x-tenant".into(), format!("t{j}")));
            probe.path = format!("{p}/dashboard");
            PathIr::Prefix(segments(&p))
        }
        6 => {
            let p = format!("/search/r{j}");
            predicates.push(PredicateIr::QueryExact {
                name: "version".into(),
                value: format!("v{j}"),
            });
            probe.path = format!("{p}?q=rust&version=v{j}&lang=en");
            PathIr::Prefix(segments(&p))
        }
        7 => {
            let p = format!("/user/r{j}");
            predicates.push(PredicateIr::HeaderRegex {
                name: "x-user".into(),
                pattern: "u[0-9]{1,8}".into(),
            });
            probe.headers.push(("x-user".into(), "u1234567".into()));
            probe.path = format!("{p}/settings");
            PathIr::Prefix(segments(&p))
        }
        8 => {
            let p = format!("/static/r{j}");
            probe.path = format!("{p}/css/site.css");
            PathIr::Prefix(segments(&p))
        }
        _ if j % 20 == 9 => {
            probe.path = format!("/h{h}/users/123456/r{j}");
            PathIr::Regex(format!("/h{h}/users/[0-9]+/r{j}"))
        }
        _ => {
            let p = format!("/docs/r{j}");
            probe.path = format!("{p}/index.html");
            PathIr::Prefix(segments(&p))
        }
    };
    let entry = EntryIr {
        path,
        predicates,
        filters: Vec::new(),
        action: ActionIr::Forward(backends(h, j)),
        source: SourceIr {
            kind: SourceKind::HttpRoute,
            namespace: format!("ns-{h}"),
            name: format!("route-{h}"),
            rule: j as u16,
            match_index: 0,
        },
    };
    // Typical client headers the predicates do not read.
    probe.headers.push(("user-agent".into(), "bench/1.0".into()));
    probe.headers.push(("accept".into(), "*/*".into()));
    (entry, probe)
}

/// A table of `rules` rules.
pub fn generate(rules: usize) -> Table {
    let hosts = rules.div_ceil(RULES_PER_HOST);
    let mut vhosts = Vec::with_capacity(hosts);
    let mut probes = Vec::with_capacity(rules);
    for h in 0..hosts {
        let (host, authority) = host_pattern(h);
        let count = RULES_PER_HOST.min(rules - h * RULES_PER_HOST);
        let mut entries = Vec::with_capacity(count);
        for j in 0..count {
            let (entry, probe) = rule(h, j, &authority);
            entries.push(entry);
            probes.push(probe);
        }
        vhosts.push(VhostIr {
            host,
            fallback: true,
            entries,
        });
    }
    let ir = ProgramIr {
        routing_header: "x-switchyard-cluster".into(),
        target: format!("gateway bench/{rules}"),
        pass_unknown_hosts: false,
        listeners: vec![ListenerIr {
            port: PORT,
            vhosts,
            sni_hosts: Vec::new(),
        }],
    };
    Table { ir, probes }
}

impl Table {
    /// A request to a known host (the middle one) that no rule matches: 404.
    pub fn miss(&self) -> Probe {
        let middle = &self.probes[self.probes.len() / 2];
        Probe {
            authority: middle.authority.clone(),
            method: "GET",
            path: "/nothing/here?version=v6".to_string(),
            headers: vec![("user-agent".into(), "bench/1.0".into())],
            expect: None,
        }
    }
}
