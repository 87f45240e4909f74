//! The shape of a generated configuration, independent of the API it is written in.
//!
//! `rules` rules are spread evenly over `hosts` virtual hosts (by default one host per
//! 40 rules). Three hosts in four are exact names (`s{h}.example.com`), one in four a
//! wildcard (`*.w{h}.example.net`). Each rule gets one of the shapes below, drawn from a
//! seeded generator, and a request that only it matches (paths carry the rule's number,
//! so no two rules of a host overlap):
//!
//! | share | path | also |
//! |---|---|---|
//! | 18 % | exact `/api/v{1-3}/{word}/{word}{j}` | |
//! | 8 % | exact `/api/v{1-3}/{word}/{word}{j}/{action}` | method POST, PUT or DELETE |
//! | 30 % | prefix `/{word}/{word}{j}` | |
//! | 10 % | prefix | header `x-tenant` exact |
//! | 7 % | prefix | query parameter exact |
//! | 6 % | prefix | header regex (`x-user`, `x-release` or `x-trace`) |
//! | 7 % | prefix | method GET and header `x-client` exact |
//! | 5 % | prefix `/static/{word}{j}` | |
//! | 5 % | regex `/{word}{j}/[0-9]+/(details|history)` | |
//! | 4 % | prefix | two headers and a query parameter |
//!
//! Backends: 70 % of rules send to one service, 20 % split 80/20 or 90/10 and 10 %
//! 50/30/20, over four services per host (Gateway API: different Services; Istio: the
//! subsets `v1`-`v3` of one Service, as canaries are usually written there).

use crate::rng::Rng;

/// Rules per host when `--hosts` is not given.
pub const RULES_PER_HOST: usize = 40;
/// The one listener port.
pub const PORT: u32 = 80;
/// Services per host.
pub const SERVICES_PER_HOST: usize = 4;
/// Hosts per namespace ("team").
pub const HOSTS_PER_NAMESPACE: usize = 8;

/// Which API the configuration is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    GatewayApi,
    Istio,
}

impl Form {
    pub fn parse(text: &str) -> Option<Form> {
        match text {
            "gateway-api" => Some(Form::GatewayApi),
            "istio" => Some(Form::Istio),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Form::GatewayApi => "gateway-api",
            Form::Istio => "istio",
        }
    }
}

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    pub rules: usize,
    /// `None`: one host per [`RULES_PER_HOST`] rules.
    pub hosts: Option<usize>,
    pub seed: u64,
    pub form: Form,
}

impl Options {
    pub fn host_count(&self) -> usize {
        self.hosts
            .unwrap_or_else(|| self.rules.div_ceil(RULES_PER_HOST))
            .clamp(1, self.rules.max(1))
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub hosts: Vec<Host>,
}

#[derive(Debug, Clone)]
pub struct Host {
    pub index: usize,
    /// As written in the manifests: `s3.example.com` or `*.w3.example.net`.
    pub hostname: String,
    /// What a client sends: the name itself, or a name under the wildcard.
    pub authority: String,
    pub namespace: String,
    pub rules: Vec<Rule>,
}

impl Host {
    pub fn is_wildcard(&self) -> bool {
        self.hostname.starts_with('*')
    }

    pub fn service(&self, k: usize) -> String {
        format!("h{}-svc{k}", self.index)
    }
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub path: PathMatch,
    pub method: Option<&'static str>,
    pub headers: Vec<HeaderMatch>,
    pub query: Vec<(&'static str, String)>,
    pub backends: Vec<Backend>,
    /// A request only this rule matches.
    pub probe: Probe,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathMatch {
    Exact(String),
    /// Written without a trailing `/`; the Istio form adds one, since Istio prefixes are
    /// plain string prefixes (`/a1` would also take `/a12`).
    Prefix(String),
    /// Full match.
    Regex(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderMatch {
    Exact {
        name: &'static str,
        value: String,
    },
    Regex {
        name: &'static str,
        pattern: &'static str,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backend {
    /// Index of the host's service.
    pub service: usize,
    /// Istio subset (`v1`...), when the rule splits traffic.
    pub subset: Option<&'static str>,
    /// `None` for a rule with one backend (the weight does not matter).
    pub weight: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub method: &'static str,
    pub path: String,
    pub headers: Vec<(String, String)>,
}

const WORDS: [&str; 20] = [
    "shop",
    "cart",
    "orders",
    "users",
    "billing",
    "search",
    "catalog",
    "media",
    "profile",
    "checkout",
    "payments",
    "inventory",
    "reports",
    "admin",
    "support",
    "account",
    "reviews",
    "ads",
    "feed",
    "auth",
];
const ACTIONS: [(&str, &str); 3] = [("POST", "submit"), ("PUT", "update"), ("DELETE", "cancel")];
const QUERY_NAMES: [&str; 3] = ["version", "lang", "variant"];
const TAILS: [&str; 4] = ["", "/index.html", "/items/42", "/v2/list"];
/// Header regexes and a value each matches.
const HEADER_REGEXES: [(&str, &str, &str); 3] = [
    ("x-user", "u[0-9]{1,8}", "u1234567"),
    ("x-release", "(beta|canary)-[a-z]+", "canary-blue"),
    ("x-trace", "[a-f0-9]{8}", "0badcafe"),
];

/// Builds the configuration for `options`.
pub fn generate(options: &Options) -> Config {
    let mut rng = Rng::new(options.seed);
    let host_count = options.host_count();
    let hosts = (0..host_count)
        .map(|h| {
            let count = options.rules / host_count + usize::from(h < options.rules % host_count);
            let (hostname, authority) = if h % 4 == 3 {
                (format!("*.w{h}.example.net"), format!("api.w{h}.example.net"))
            } else {
                (format!("s{h}.example.com"), format!("s{h}.example.com"))
            };
            Host {
                index: h,
                hostname,
                authority,
                namespace: format!("team-{}", h / HOSTS_PER_NAMESPACE),
                rules: (0..count).map(|j| rule(j, &mut rng)).collect(),
            }
        })
        .collect();
    Config { hosts }
}

/// Rule `j` of a host and the request that hits it.
fn rule(j: usize, rng: &mut Rng) -> Rule {
    let word = *rng.pick(&WORDS);
    let own = format!("{}{j}", rng.pick(&WORDS));
    let tail = *rng.pick(&TAILS);
    let prefix = format!("/{word}/{own}");
    let mut rule = Rule {
        path: PathMatch::Prefix(prefix.clone()),
        method: None,
        headers: Vec::new(),
        query: Vec::new(),
        backends: backends(rng),
        probe: Probe {
            method: "GET",
            path: format!("{prefix}/{}", tail.trim_start_matches('/')),
            headers: Vec::new(),
        },
    };
    let version = 1 + rng.below(3);
    match rng.below(100) {
        0..18 => {
            let path = format!("/api/v{version}/{word}/{own}");
            rule.probe.path = path.clone();
            rule.path = PathMatch::Exact(path);
        }
        18..26 => {
            let (method, action) = *rng.pick(&ACTIONS);
            let path = format!("/api/v{version}/{word}/{own}/{action}");
            rule.probe.path = path.clone();
            rule.probe.method = method;
            rule.path = PathMatch::Exact(path);
            rule.method = Some(method);
        }
        26..56 => {}
        56..66 => tenant(&mut rule, rng),
        66..73 => query(&mut rule, rng),
        73..79 => {
            let (name, pattern, value) = *rng.pick(&HEADER_REGEXES);
            rule.headers.push(HeaderMatch::Regex { name, pattern });
            rule.probe.headers.push((name.into(), value.into()));
        }
        79..86 => {
            rule.method = Some("GET");
            let client = *rng.pick(&["mobile", "web", "partner"]);
            rule.headers.push(HeaderMatch::Exact {
                name: "x-client",
                value: client.into(),
            });
            rule.probe.headers.push(("x-client".into(), client.into()));
        }
        86..91 => {
            let path = format!("/static/{own}");
            rule.probe.path = format!("{path}/css/site.css");
            rule.path = PathMatch::Prefix(path);
        }
        91..96 => {
            rule.path = PathMatch::Regex(format!("/{own}/[0-9]+/(details|history)"));
            rule.probe.path = format!("/{own}/{}/details", 1000 + rng.below(90_000));
        }
        _ => {
            tenant(&mut rule, rng);
            rule.headers.push(HeaderMatch::Exact {
                name: "x-canary",
                value: "true".into(),
            });
            rule.probe.headers.push(("x-canary".into(), "true".into()));
            query(&mut rule, rng);
        }
    }
    // Typical client headers no predicate reads.
    rule.probe
        .headers
        .push(("user-agent".into(), "switchyard-bench/1.0".into()));
    rule.probe.headers.push(("accept".into(), "*/*".into()));
    rule
}

fn tenant(rule: &mut Rule, rng: &mut Rng) {
    let value = format!("tenant-{}", rng.below(1000));
    rule.probe.headers.push(("x-tenant".into(), value.clone()));
    rule.headers.push(HeaderMatch::Exact {
        name: "x-tenant",
        value,
    });
}

fn query(rule: &mut Rule, rng: &mut Rng) {
    let name = *rng.pick(&QUERY_NAMES);
    let value = format!("v{}", rng.below(10));
    rule.probe.path = format!("{}?page=2&{name}={value}", rule.probe.path);
    rule.query.push((name, value));
}

fn backends(rng: &mut Rng) -> Vec<Backend> {
    let first = rng.below(SERVICES_PER_HOST);
    let roll = rng.below(100);
    let weights: &[u32] = match roll {
        0..70 => {
            return vec![Backend {
                service: first,
                subset: None,
                weight: None,
            }];
        }
        70..80 => &[80, 20],
        80..90 => &[90, 10],
        _ => &[50, 30, 20],
    };
    const SUBSETS: [&str; 3] = ["v1", "v2", "v3"];
    weights
        .iter()
        .enumerate()
        .map(|(k, &weight)| Backend {
            service: (first + k) % SERVICES_PER_HOST,
            subset: Some(SUBSETS[k]),
            weight: Some(weight),
        })
        .collect()
}

impl Rule {
    /// Sends everything to the first backend: the sample requests must have one
    /// expected cluster whatever the random pick.
    pub fn make_single_backend(&mut self) {
        self.backends.truncate(1);
        if let Some(backend) = self.backends.first_mut() {
            backend.weight = None;
            backend.subset = None;
        }
    }
}
