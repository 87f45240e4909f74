//! Whether two programs route alike: generated requests (`generate`) evaluated by both
//! (`Program::evaluate` + `Program::plan`, the same random number on both sides), and the
//! decisions compared: the weighted clusters, the status, the redirect Location, the
//! rewritten path and host, the header edits (by their effect), the mirrors and faults
//! of the winning rule, and the request timeout. `classes` groups the differing requests
//! by the rules responsible and the kind of change. Used by `switchyard convert` (its
//! proof) and `switchyard diff`.

pub mod classes;
pub mod generate;

use std::collections::BTreeMap;

use switchyard_bytecode::ir::{ActionIr, BackendIr, EntryIr, FilterIr, ProgramIr};
use switchyard_bytecode::{Program, Request, Scratch, apply_header_ops};

pub use self::classes::{Change, Class, classify};
pub use self::generate::{TestRequest, generate};
use crate::rule_ref::RuleRef;

/// One side of a comparison.
#[derive(Debug, Clone, Copy)]
pub struct Side<'a> {
    /// How reports name this side, e.g. `istio` or `gateway-api`.
    pub label: &'a str,
    pub ir: &'a ProgramIr,
    pub program: &'a Program,
}

/// What one program does with one request, in comparable form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// `forward`, `reply` or `redirect`.
    pub kind: &'static str,
    pub status: Option<u16>,
    /// Cluster (`<500>` for an unresolved share) -> its share in parts per million.
    pub shares: Vec<(String, u32)>,
    pub location: Option<String>,
    /// Per cluster: the path, the host and the request headers after the edits, and
    /// the response header edits, when that cluster is chosen.
    pub edits: Vec<(String, Edits)>,
    /// Mirrors (cluster, parts per million), sorted.
    pub mirrors: Vec<(String, u32)>,
    /// Fault injection: (abort status, ppm), (delay ms, ppm).
    pub faults: Vec<String>,
    /// Whole-request timeout in ms; `None` for none (unset or 0).
    pub request_timeout_ms: Option<u32>,
    /// The rule that decided, as `Program::source` gives it.
    pub source: Option<String>,
    /// The same rule, structured.
    pub rule: Option<RuleRef>,
}

/// The effect of a decision on the request and its response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Edits {
    pub path: String,
    pub authority: String,
    pub request_headers: Vec<(String, String)>,
    pub response_headers: Vec<(String, String)>,
}

impl Summary {
    /// Everything but the rule source.
    fn decision(&self) -> Summary {
        Summary {
            source: None,
            rule: None,
            ..self.clone()
        }
    }

    /// What happens to the request, without the rule: `forward to c 100%; ...`.
    pub fn outcome(&self) -> String {
        Outcome(self).to_string()
    }
}

impl core::fmt::Display for Summary {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{} [{}]",
            Outcome(self),
            self.source.as_deref().unwrap_or("no rule matched")
        )
    }
}

/// A summary's decision in words.
struct Outcome<'s>(&'s Summary);

impl core::fmt::Display for Outcome<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let summary = self.0;
        match summary.kind {
            "forward" => {
                let shares: Vec<String> = summary
                    .shares
                    .iter()
                    .map(|(c, ppm)| format!("{c} {}%", f64::from(*ppm) / 10_000.0))
                    .collect();
                write!(f, "forward to {}", shares.join(", "))?;
            }
            "redirect" => write!(
                f,
                "redirect {} to {}",
                summary.status.unwrap_or(0),
                summary.location.as_deref().unwrap_or("?")
            )?,
            _ => write!(f, "reply {}", summary.status.unwrap_or(0))?,
        }
        for (cluster, edits) in summary.edits.iter().filter(|(c, _)| !c.is_empty()) {
            write!(f, "; via {cluster}: path {} host {}", edits.path, edits.authority)?;
            if !edits.request_headers.is_empty() {
                write!(f, " request headers {:?}", edits.request_headers)?;
            }
            if !edits.response_headers.is_empty() {
                write!(f, " response headers {:?}", edits.response_headers)?;
            }
        }
        for (_, edits) in summary
            .edits
            .iter()
            .filter(|(c, e)| c.is_empty() && !e.response_headers.is_empty())
        {
            write!(f, "; response headers {:?}", edits.response_headers)?;
        }
        if !summary.mirrors.is_empty() {
            write!(f, "; mirrors {:?}", summary.mirrors)?;
        }
        if !summary.faults.is_empty() {
            write!(f, "; faults {}", summary.faults.join(", "))?;
        }
        if let Some(ms) = summary.request_timeout_ms {
            write!(f, "; timeout {ms} ms")?;
        }
        Ok(())
    }
}

/// A request the two programs treat differently.
#[derive(Debug, Clone)]
pub struct Difference {
    pub request: TestRequest,
    pub left: Summary,
    pub right: Summary,
}

/// The outcome of a comparison.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub requests: usize,
    pub differences: Vec<Difference>,
}

impl Report {
    pub fn equivalent(&self) -> bool {
        self.differences.is_empty()
    }

    /// One paragraph per differing request.
    pub fn render(&self, left: &str, right: &str) -> String {
        let mut out = String::new();
        for d in &self.differences {
            out.push_str(&format!(
                "{}\n  {left}: {}\n  {right}: {}\n",
                d.request, d.left, d.right
            ));
        }
        out
    }
}

/// Compares the two programs over requests generated from both.
pub fn compare(left: Side<'_>, right: Side<'_>) -> Report {
    let requests = generate(&[left.ir, right.ir]);
    compare_on(left, right, &requests)
}

/// Compares the two programs over `requests`.
pub fn compare_on(left: Side<'_>, right: Side<'_>, requests: &[TestRequest]) -> Report {
    let left_entries = flat_entries(left.ir);
    let right_entries = flat_entries(right.ir);
    let mut scratch = Scratch::new();
    let mut report = Report {
        requests: requests.len(),
        differences: Vec::new(),
    };
    for r in requests {
        let a = summarize(left.program, &left_entries, r, &mut scratch);
        let b = summarize(right.program, &right_entries, r, &mut scratch);
        if a.decision() != b.decision() {
            report.differences.push(Difference {
                request: r.clone(),
                left: a,
                right: b,
            });
        }
    }
    report
}

/// The IR entries in the program's entry numbering (listeners, vhosts, entries in
/// order), with their listener port.
fn flat_entries(ir: &ProgramIr) -> Vec<(u32, &EntryIr)> {
    ir.listeners
        .iter()
        .flat_map(|l| l.vhosts.iter().map(move |v| (l.port, v)))
        .flat_map(|(port, v)| v.entries.iter().map(move |e| (port, e)))
        .collect()
}

/// The IR entry behind entry `id`: by number when the numbering agrees, else the first
/// entry on the request's port with the same source.
fn ir_entry<'i>(
    program: &Program,
    entries: &[(u32, &'i EntryIr)],
    id: u32,
    port: u32,
) -> Option<&'i EntryIr> {
    let source = program.source(id);
    let same = |e: &EntryIr| {
        e.source.kind == source.kind
            && e.source.namespace == source.namespace
            && e.source.name == source.name
            && u32::from(e.source.rule) == source.rule
            && u32::from(e.source.match_index) == source.match_index
    };
    if let Some((_, e)) = entries.get(id as usize)
        && same(e)
    {
        return Some(e);
    }
    entries
        .iter()
        .find(|(p, e)| *p == port && same(e))
        .map(|(_, e)| *e)
}

fn view<'r>(r: &'r TestRequest, random: u64) -> Request<'r> {
    Request {
        port: r.port,
        authority: &r.authority,
        method: &r.method,
        path: &r.path,
        scheme: &r.scheme,
        headers: (&r.headers).into(),
        random,
        // Generated requests are plaintext: Istio has no misdirected-request check to
        // compare with.
        sni: None,
    }
}

const UNRESOLVED: &str = "<500>";

/// The status answered for `backend` because the proxy has no cluster for it.
fn missing_cluster(backend: &BackendIr) -> Option<u16> {
    backend.filters.iter().find_map(|f| match f {
        FilterIr::NoCluster { status } => Some(*status),
        _ => None,
    })
}

/// How a share is named: its cluster, `<500>` for a reference that did not resolve, or
/// `<STATUS>` for a cluster the proxy does not have (a missing Istio subset: 503).
fn share_name(backend: &BackendIr) -> String {
    match (&backend.cluster, missing_cluster(backend)) {
        (_, Some(status)) => format!("<{status}>"),
        (Some(cluster), None) => cluster.clone(),
        (None, None) => UNRESOLVED.to_string(),
    }
}

fn summarize(
    program: &Program,
    entries: &[(u32, &EntryIr)],
    r: &TestRequest,
    scratch: &mut Scratch,
) -> Summary {
    let request = view(r, r.random);
    let decision = program.evaluate(&request, scratch);
    let plan = program.plan(&decision, &request);
    let entry = decision
        .entry
        .and_then(|id| ir_entry(program, entries, id, r.port));
    let mut summary = Summary {
        kind: "reply",
        status: None,
        shares: Vec::new(),
        location: None,
        edits: Vec::new(),
        mirrors: Vec::new(),
        faults: Vec::new(),
        request_timeout_ms: plan.request_timeout_ms.filter(|ms| *ms != 0),
        source: decision.entry.map(|id| program.source(id).to_string()),
        rule: decision.entry.map(|id| RuleRef::from_info(&program.source(id))),
    };
    if let Some(reply) = &plan.reply {
        summary.status = Some(reply.status);
        summary.location = reply
            .headers
            .iter()
            .find(|(n, _)| *n == "location")
            .map(|(_, v)| v.clone());
        if summary.location.is_some() {
            summary.kind = "redirect";
        }
    }
    if let Some(entry) = entry {
        for filter in &entry.filters {
            match filter {
                // A mirror to a cluster the proxy does not have is dropped.
                FilterIr::Mirror { backend, per_million }
                    if backend.cluster.is_some()
                        && missing_cluster(backend).is_none()
                        && *per_million > 0 =>
                {
                    summary
                        .mirrors
                        .push((backend.cluster.clone().unwrap_or_default(), *per_million));
                }
                FilterIr::FaultAbort { status, per_million } if *per_million > 0 => {
                    summary.faults.push(format!("abort {status} {per_million}ppm"));
                }
                FilterIr::FaultDelay {
                    delay_ms,
                    per_million,
                } if *per_million > 0 => {
                    summary
                        .faults
                        .push(format!("delay {delay_ms}ms {per_million}ppm"));
                }
                _ => {}
            }
        }
        summary.mirrors.sort();
        summary.faults.sort();
        if let ActionIr::Forward(backends) = &entry.action {
            let total: u64 = backends.iter().map(|b| u64::from(b.weight)).sum();
            if total > 0 {
                summary.kind = "forward";
                summary.status = None;
                summary.location = None;
                summary.shares = shares(backends, total);
                // The edits when each share is chosen: a random number that picks it.
                let mut offset = 0u64;
                let mut seen: Vec<String> = Vec::new();
                for b in backends {
                    let weight = u64::from(b.weight);
                    let name = share_name(b);
                    if weight > 0 && !seen.contains(&name) {
                        seen.push(name.clone());
                        let pick = view(r, offset);
                        let decision = program.evaluate(&pick, scratch);
                        let plan = program.plan(&decision, &pick);
                        summary.edits.push((name, edits_of(r, &plan)));
                    }
                    offset += weight;
                }
                summary.edits.sort_by(|a, b| a.0.cmp(&b.0));
                return summary;
            }
        }
    }
    if let Some(cluster) = plan.cluster {
        // Forwarded, but the rule's IR was not found: the one cluster picked.
        summary.kind = "forward";
        summary.shares = vec![(cluster.to_string(), 1_000_000)];
        summary.edits.push((cluster.to_string(), edits_of(r, &plan)));
        return summary;
    }
    if summary.kind == "redirect" || summary.status.is_some() {
        let mut edits = edits_of(r, &plan);
        // Nothing is forwarded: only the response edits count.
        edits.path = String::new();
        edits.authority = String::new();
        edits.request_headers.clear();
        summary.edits.push((String::new(), edits));
    }
    summary
}

/// Cluster shares in parts per million, equal clusters merged, sorted by cluster.
fn shares(backends: &[BackendIr], total: u64) -> Vec<(String, u32)> {
    let mut by_cluster: BTreeMap<String, u64> = BTreeMap::new();
    for b in backends.iter().filter(|b| b.weight > 0) {
        let name = share_name(b);
        *by_cluster.entry(name).or_default() += u64::from(b.weight);
    }
    by_cluster
        .into_iter()
        .map(|(c, w)| (c, (w * 1_000_000 / total) as u32))
        .collect()
}

fn edits_of(r: &TestRequest, plan: &switchyard_bytecode::Plan<'_>) -> Edits {
    let mut headers = r.headers.clone();
    apply_header_ops(&mut headers, &plan.request_headers);
    headers.sort();
    let mut response = Vec::new();
    apply_header_ops(&mut response, &plan.response_headers);
    if let Some(reply) = &plan.reply {
        for (name, value) in &reply.headers {
            if *name != "location" {
                response.push((name.to_string(), value.clone()));
            }
        }
    }
    response.sort();
    Edits {
        path: plan.path.clone().unwrap_or_else(|| r.path.clone()),
        authority: plan.authority.clone().unwrap_or_else(|| r.authority.clone()),
        request_headers: headers,
        response_headers: response,
    }
}
