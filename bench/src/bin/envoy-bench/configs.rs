//! The three Envoy configurations compared, differing only in how a request is routed:
//!
//! - `native`: the route table `switchyard emit envoy-routes` writes (what Istio or Envoy
//!   Gateway would generate), no extra HTTP filter;
//! - `plugin`: what `switchyard emit envoy-bootstrap` writes, the plugin then the one
//!   route obeying its routing header;
//! - `floor`: no filter and a single catch-all route.
//!
//! Every request that would be forwarded is answered by Envoy itself with an empty 200
//! (`direct_response`), in all three, so no upstream takes part: what differs is only
//! the routing. A 404 stays a 404. All three listen on loopback behind the PROXY protocol
//! (one line per connection; the plugin needs the program's port) and define the same
//! clusters. For the check before measuring, `verify` makes the answer name the cluster
//! the request was routed to: the native answer's body, the plugin's routing header
//! copied into a response header.

use switchyard_bytecode::Program;
use switchyard_compiler::emit::bootstrap::{BootstrapOptions, Listener, bootstrap, listener_name};
use switchyard_compiler::emit::envoy::clusters;
use switchyard_compiler::emit::envoy_routes::RouteTable;
use switchyard_compiler::emit::envoy_routes::action::Needs;
use switchyard_compiler::emit::envoy_routes::bootstrap::native_bootstrap;
use switchyard_compiler::emit::yaml::Node;

/// The response header naming the plugin's cluster in the verifying configuration.
pub const VERIFY_HEADER: &str = "x-bench-cluster";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Native,
    Plugin,
    Floor,
    /// The plugin configuration with another module (`--candidate`), measured in the same
    /// slices as `plugin` so that two builds compare under the same load.
    Candidate,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Native, Kind::Plugin, Kind::Floor];

    pub fn parse_any(text: &str) -> Option<Kind> {
        Kind::parse(text).or((text == "candidate").then_some(Kind::Candidate))
    }

    pub fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == text)
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Native => "native",
            Kind::Plugin => "plugin",
            Kind::Floor => "floor",
            Kind::Candidate => "candidate",
        }
    }
}

fn map(pairs: Vec<(&str, Node)>) -> Node {
    Node::Map(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

/// The bootstrap for `kind`, listening on 127.0.0.1:`listen` for the program's `port`.
pub fn bootstrap_for(
    kind: Kind,
    program: &Program,
    table: &RouteTable,
    wasm: &str,
    listen: u32,
    verify: bool,
) -> Node {
    let options = BootstrapOptions {
        wasm_path: wasm.to_string(),
        listeners: vec![Listener {
            name: listener_name(table.port),
            address: "127.0.0.1".to_string(),
            port: listen,
        }],
        endpoints: Default::default(),
        admin_address: "127.0.0.1".to_string(),
        admin_port: 0,
        proxy_protocol: true,
        observe_timeout: false,
        trace_header: None,
    };
    let names = clusters(program);
    match kind {
        Kind::Native => {
            let mut table = table.clone();
            answer_directly(&mut table.config, &Answer::Native { verify });
            native_bootstrap(&[table], &names, &options)
        }
        Kind::Plugin | Kind::Candidate => {
            let mut config = bootstrap(program, &options);
            answer_directly(&mut config, &Answer::Plugin { verify });
            config
        }
        Kind::Floor => {
            let floor = RouteTable {
                port: table.port,
                config: map(vec![
                    ("name", Node::from("floor")),
                    (
                        "virtual_hosts",
                        Node::List(vec![map(vec![
                            ("name", Node::from("floor")),
                            ("domains", Node::List(vec![Node::from("*")])),
                            (
                                "routes",
                                Node::List(vec![map(vec![
                                    ("match", map(vec![("prefix", Node::from("/"))])),
                                    ("direct_response", ok(None)),
                                ])]),
                            ),
                        ])]),
                    ),
                ]),
                needs: Needs::default(),
                notes: Vec::new(),
            };
            native_bootstrap(&[floor], &names, &options)
        }
    }
}

enum Answer {
    Native { verify: bool },
    Plugin { verify: bool },
}

fn ok(body: Option<String>) -> Node {
    let mut pairs = vec![("status", Node::Int(200))];
    if let Some(body) = body {
        pairs.push(("body", map(vec![("inline_string", Node::from(body))])));
    }
    map(pairs)
}

/// Replaces every forwarding route action (`"route": {...}`) below `node` by a direct
/// 200; a verifying configuration names the cluster in the answer.
fn answer_directly(node: &mut Node, answer: &Answer) {
    match node {
        Node::Map(entries) => {
            let mut extra = None;
            for (key, value) in entries.iter_mut() {
                if key == "route"
                    && let Node::Map(action) = value
                {
                    let body = match answer {
                        Answer::Native { verify: true } => Some(destinations(action)),
                        _ => None,
                    };
                    if let Answer::Plugin { verify: true } = answer {
                        extra = Some(cluster_echo(action));
                    }
                    *key = "direct_response".to_string();
                    *value = ok(body);
                } else {
                    answer_directly(value, answer);
                }
            }
            if let Some(echo) = extra {
                entries.push(("response_headers_to_add".to_string(), echo));
            }
        }
        Node::List(items) => items.iter_mut().for_each(|i| answer_directly(i, answer)),
        _ => {}
    }
}

/// The clusters a native route action may send to, space-separated.
fn destinations(action: &[(String, Node)]) -> String {
    let mut names = Vec::new();
    for (key, value) in action {
        match (key.as_str(), value) {
            ("cluster", Node::Str(c)) => names.push(c.clone()),
            ("weighted_clusters", Node::Map(w)) => {
                for (k, list) in w {
                    if let (true, Node::List(items)) = (k == "clusters", list) {
                        for item in items {
                            if let Node::Map(fields) = item {
                                for (k, v) in fields {
                                    if let (true, Node::Str(name)) = (k == "name", v) {
                                        names.push(name.clone());
                                    }
                                }
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    names.join(" ")
}

/// A response header copying the routing header the plugin set.
fn cluster_echo(action: &[(String, Node)]) -> Node {
    let header = action
        .iter()
        .find_map(|(k, v)| match (k.as_str(), v) {
            ("cluster_header", Node::Str(h)) => Some(h.clone()),
            _ => None,
        })
        .unwrap_or_default();
    Node::List(vec![map(vec![
        (
            "header",
            map(vec![
                ("key", Node::from(VERIFY_HEADER)),
                ("value", Node::from(format!("%REQ({header})%"))),
            ]),
        ),
        ("append_action", Node::from("OVERWRITE_IF_EXISTS_OR_ADD")),
    ])])
}
