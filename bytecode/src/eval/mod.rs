//! The evaluator: program + request view + reusable scratch in, decision out. Pure: no
//! I/O, no allocation once the scratch has grown to the program's needs.
//!
//! A request touches only its candidates: the listener by port (binary search), the vhost
//! by host (hash probes: the exact name, then each wildcard suffix longest first), then
//! within the vhost the entries indexed under its exact path, under each prefix of its
//! path segments (a trie walk), and the regex-path entries. Entry ids are numbered in
//! evaluation order, so the winner is the smallest matching id among the candidate
//! lists, found by merging them. When nothing matches and the vhost falls back, the next
//! less specific vhost is tried.

mod cors_envoy;
mod headers;
mod host;
mod path;
mod plan;
mod predicate;
mod query;
mod tls;
mod trace;

use crate::format::{NONE, op, section};
use crate::program::Program;

pub use headers::Headers;
pub use host::normalize_host;
pub use plan::{
    HeaderEdit, HeaderOp, ISTIO_DEFAULT_RETRY, Mirror, Plan, Reply, Retry, apply_header_ops,
    default_retry_header,
};
pub use trace::{Observer, Rejection, TRACE_LINE_MAX, Trace};

/// What the evaluator needs to know about a request.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The listener port the request arrived on.
    pub port: u32,
    /// `:authority` (or `Host`), possibly with a port.
    pub authority: &'a str,
    /// `:method`.
    pub method: &'a str,
    /// `:path`, with the query string.
    pub path: &'a str,
    /// `:scheme` (`http` or `https`); read only for redirects that keep it.
    pub scheme: &'a str,
    /// Request headers with lowercase names (repeats allowed). Only read when a
    /// predicate needs one; see [`Program::needs_headers`].
    pub headers: Headers<'a>,
    /// A uniformly random number, used to pick among weighted backends.
    pub random: u64,
    /// The server name the client sent in its TLS handshake (SNI); `None` (or empty)
    /// on a plaintext connection. Read only by programs that check for misdirected
    /// requests ([`crate::program::Features::sni`]).
    pub sni: Option<&'a str>,
}

/// Per-request working memory, reused across requests to avoid allocation.
#[derive(Debug, Default)]
pub struct Scratch {
    /// Candidate lists: (next position, end) in ENTRY_LISTS.
    cursors: Vec<(u32, u32)>,
    /// Repeated header values joined with `,`.
    joined: String,
    /// A percent-decoded query parameter.
    decoded: Vec<u8>,
}

impl Scratch {
    pub fn new() -> Self {
        Self::default()
    }
}

/// What to do with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision<'p> {
    /// The winning entry, if any matched.
    pub entry: Option<u32>,
    /// The vhost that held the winning entry, or the first vhost selected.
    pub vhost: Option<u32>,
    pub outcome: Outcome<'p>,
}

/// The effect of a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome<'p> {
    /// Forward upstream to `cluster` (backend record `backend`).
    Forward { backend: u32, cluster: &'p str },
    /// Answer locally. `backend` is the backend record whose share this was, when a
    /// reference that did not resolve was picked (500).
    Reply {
        status: u16,
        body: Option<&'p str>,
        backend: Option<u32>,
    },
    /// Leave the request to the proxy's own routes: no vhost takes its host (or no
    /// listener its port) and the program passes such requests on (a sidecar's
    /// passthrough; [`Program::passes_unknown_hosts`]). Nothing is edited.
    Pass,
    /// Answer with a redirect; [`Program::plan`] computes the Location. `backend`: the
    /// backend record whose own RequestRedirect this is (format 1.2), when the entry
    /// forwards and the chosen backend redirects.
    Redirect { status: u16, backend: Option<u32> },
}

/// Gateway API: "If no matching route is found, the gateway MUST respond with 404".
const NO_ROUTE: u16 = 404;
/// Gateway API: requests routed to an invalid backend reference get a 500.
const INVALID_BACKEND: u16 = 500;
/// RFC 9110 421 Misdirected Request: the Host belongs to another HTTPS listener than the
/// one the TLS SNI selected.
const MISDIRECTED: u16 = 421;

impl Program {
    /// Decides what happens to `request`.
    pub fn evaluate<'p>(&'p self, request: &Request<'_>, scratch: &mut Scratch) -> Decision<'p> {
        self.evaluate_observed(request, scratch, &mut ())
    }

    /// [`Program::evaluate`], reporting each step to `observer` (the request traces of
    /// `switchyard explain --request` and of the plugin's debug header). One algorithm
    /// serves both, so a trace can never disagree with the decision; with `()` as the
    /// observer the calls compile away.
    pub fn evaluate_observed<'p>(
        &'p self,
        request: &Request<'_>,
        scratch: &mut Scratch,
        observer: &mut impl Observer,
    ) -> Decision<'p> {
        let no_route = |vhost| Decision {
            entry: None,
            vhost,
            outcome: Outcome::Reply {
                status: NO_ROUTE,
                body: None,
                backend: None,
            },
        };
        // Istio's sidecar: a host (or port) no service or route declares is passed
        // through to where the client sent it (`outboundTrafficPolicy: ALLOW_ANY`); a
        // declared host whose rules all miss is still 404.
        let unknown = || Decision {
            entry: None,
            vhost: None,
            outcome: if self.passes_unknown_hosts() {
                Outcome::Pass
            } else {
                Outcome::Reply {
                    status: NO_ROUTE,
                    body: None,
                    backend: None,
                }
            },
        };
        let listener = self.listener(request.port);
        observer.listener(listener);
        let Some(listener) = listener else {
            return unknown();
        };
        let host = normalize_host(request.authority);
        if let Some(sni) = request.sni.filter(|s| !s.is_empty())
            && self.misdirected(request.port, host, sni)
        {
            return Decision {
                entry: None,
                vhost: None,
                outcome: Outcome::Reply {
                    status: MISDIRECTED,
                    body: None,
                    backend: None,
                },
            };
        }
        let first = self.select_vhost(listener, host);
        if first == NONE {
            return unknown();
        }
        let mut vhost = first;
        let mut hops = 0;
        while vhost != NONE && hops <= self.table(section::VHOSTS).len {
            observer.vhost(vhost);
            if let Some(entry) = self.match_in_vhost(vhost, request, scratch, observer) {
                return Decision {
                    entry: Some(entry),
                    vhost: Some(vhost),
                    outcome: self.act(entry, request.random),
                };
            }
            vhost = self.word(section::VHOSTS, vhost, 0);
            hops += 1;
        }
        no_route(Some(first))
    }

    /// Listener index for `port`, by binary search over the sorted ports.
    fn listener(&self, port: u32) -> Option<u32> {
        let (mut low, mut high) = (0, self.table(section::LISTENERS).len);
        while low < high {
            let mid = low + (high - low) / 2;
            match self.word(section::LISTENERS, mid, 0).cmp(&port) {
                core::cmp::Ordering::Less => low = mid + 1,
                core::cmp::Ordering::Greater => high = mid,
                core::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    /// The first entry of `vhost` that matches, in evaluation order.
    fn match_in_vhost(
        &self,
        vhost: u32,
        request: &Request<'_>,
        scratch: &mut Scratch,
        observer: &mut impl Observer,
    ) -> Option<u32> {
        let path = request.path.split(['?', '#']).next().unwrap_or("");
        self.collect_candidates(vhost, path, &mut scratch.cursors);
        loop {
            let mut best: Option<(usize, u32)> = None;
            for (i, &(position, end)) in scratch.cursors.iter().enumerate() {
                if position < end {
                    let id = self.word(section::ENTRY_LISTS, position, 0);
                    if best.is_none_or(|(_, best_id)| id < best_id) {
                        best = Some((i, id));
                    }
                }
            }
            let (list, entry) = best?;
            scratch.cursors[list].0 += 1;
            match self.first_failing_predicate(entry, request, path, scratch) {
                None => return Some(entry),
                Some(predicate) => observer.rejected(entry, predicate),
            }
        }
    }

    /// The first of the entry's predicates that does not hold; `None` when it matches.
    fn first_failing_predicate(
        &self,
        entry: u32,
        request: &Request<'_>,
        path: &str,
        scratch: &mut Scratch,
    ) -> Option<u32> {
        let start = self.word(section::ENTRIES, entry, 0);
        let len = self.word(section::ENTRIES, entry, 1);
        (start..start.saturating_add(len)).find(|&p| !self.predicate_holds(p, request, path, scratch))
    }

    /// Runs the winning entry's action.
    fn act(&self, entry: u32, random: u64) -> Outcome<'_> {
        let action = self.word(section::ENTRIES, entry, 2);
        let start = self.word(section::ACTIONS, action, 0);
        let len = self.word(section::ACTIONS, action, 1);
        // The loader guarantees the last op is the only terminal one.
        let last = start.saturating_add(len).saturating_sub(1);
        let head = self.word(section::OPS, last, 0);
        let (a, b) = (self.word(section::OPS, last, 1), self.word(section::OPS, last, 2));
        match (head & 0xFF) as u8 {
            op::FORWARD => self.pick_backend(a, random),
            op::REDIRECT => Outcome::Redirect {
                status: (a & 0xFFFF) as u16,
                backend: None,
            },
            _ => Outcome::Reply {
                status: u16::try_from(a).unwrap_or(INVALID_BACKEND),
                body: (b != NONE).then(|| self.string(b)),
                backend: None,
            },
        }
    }

    /// The status answered instead of forwarding to `backend`, when its op run says its
    /// cluster does not exist on the proxy (format 1.1 `NO_CLUSTER`).
    pub(crate) fn missing_cluster(&self, backend: u32) -> Option<u16> {
        let start = self.word(section::BACKENDS, backend, 3);
        let len = self.word(section::BACKENDS, backend, 4);
        (start..start.saturating_add(len))
            .find(|&o| (self.word(section::OPS, o, 0) & 0xFF) as u8 == op::NO_CLUSTER)
            .map(|o| u16::try_from(self.word(section::OPS, o, 1)).unwrap_or(INVALID_BACKEND))
    }

    /// The status of the redirect that ends `backend`'s op run (format 1.2), if any.
    pub(crate) fn backend_redirect(&self, backend: u32) -> Option<u16> {
        let len = self.word(section::BACKENDS, backend, 4);
        let last = self
            .word(section::BACKENDS, backend, 3)
            .checked_add(len)?
            .checked_sub(1)?;
        (len > 0 && (self.word(section::OPS, last, 0) & 0xFF) as u8 == op::REDIRECT)
            .then(|| (self.word(section::OPS, last, 1) & 0xFFFF) as u16)
    }

    /// Gateway API: each backend gets weight/Σweight of the requests; weight 0 gets none;
    /// a share routed to an unresolvable reference is answered 500, and so is a rule whose
    /// weights are all zero or that has no backends.
    fn pick_backend(&self, set: u32, random: u64) -> Outcome<'_> {
        let start = self.word(section::BACKEND_SETS, set, 0);
        let len = self.word(section::BACKEND_SETS, set, 1);
        let total = u64::from(self.word(section::BACKEND_SETS, set, 2));
        let fail = |backend| Outcome::Reply {
            status: INVALID_BACKEND,
            body: None,
            backend,
        };
        if total == 0 {
            return fail(None);
        }
        let mut ticket = random % total;
        for backend in start..start.saturating_add(len) {
            let weight = u64::from(self.word(section::BACKENDS, backend, 1));
            if ticket < weight {
                let cluster = self.word(section::BACKENDS, backend, 2);
                // NO_CLUSTER decides first: a cluster the proxy lacks (an Istio subset)
                // and a GRPCRoute's unresolved reference (503, which Envoy turns into
                // UNAVAILABLE for a gRPC call) carry their status; any other backend
                // without a cluster gets the Gateway API's 500.
                return if let Some(status) = self.missing_cluster(backend) {
                    Outcome::Reply {
                        status,
                        body: None,
                        backend: Some(backend),
                    }
                } else if cluster == NONE {
                    fail(Some(backend))
                } else if let Some(status) = self.backend_redirect(backend) {
                    Outcome::Redirect {
                        status,
                        backend: Some(backend),
                    }
                } else {
                    Outcome::Forward {
                        backend,
                        cluster: self.string(cluster),
                    }
                };
            }
            ticket -= weight;
        }
        fail(None)
    }
}
