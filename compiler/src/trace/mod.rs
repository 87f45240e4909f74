//! Request traces (`switchyard explain --request`): the decision for one request and the
//! path to it: the listener and virtual host chosen and why, every rule passed over in
//! evaluation order with the first condition that failed and the request's value, the
//! rule that won with its source, and the actions it applies. Built from the evaluator's
//! own [`Observer`] steps, so the trace and the decision cannot disagree.

pub mod cli;
pub mod request;
mod text;

use serde::Serialize;
use switchyard_bytecode::{HeaderEdit, HeaderOp, Outcome, Program, Scratch, Trace};

use crate::locate::Locator;
use crate::routetest::engine::SentRequest;

/// Everything `explain --request` reports.
#[derive(Debug, Clone, Serialize)]
pub struct TraceReport {
    pub request: RequestView,
    /// `None`: no listener has the request's port.
    pub listener: Option<u32>,
    pub vhosts: Vec<VhostStep>,
    pub decision: DecisionView,
    pub actions: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RequestView {
    pub port: u32,
    pub method: String,
    pub scheme: String,
    pub authority: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    /// The TLS server name, for a request over TLS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sni: Option<String>,
}

/// One virtual host searched.
#[derive(Debug, Clone, Serialize)]
pub struct VhostStep {
    pub index: u32,
    /// The host pattern it serves (`*`: any host).
    pub name: String,
    /// Why it was searched.
    pub reason: String,
    /// Its rules up to the winner (all of them when none matched), in evaluation order.
    pub rules: Vec<RuleStep>,
}

/// One rule considered.
#[derive(Debug, Clone, Serialize)]
pub struct RuleStep {
    pub entry: u32,
    /// `HTTPRoute ns/name rule R match M`.
    pub source: String,
    /// `file:line`, when the rule has a manifest behind it.
    pub location: Option<String>,
    /// `won`, or `passed over`.
    pub verdict: &'static str,
    /// For a rule passed over: the first condition that failed.
    pub failed: Option<String>,
    /// The request's value for that condition (`None`: the request lacks it).
    pub request_value: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DecisionView {
    /// `forward`, `reply` or `redirect`.
    pub kind: &'static str,
    /// The status the proxy answers with itself; `None` when forwarded.
    pub status: Option<u16>,
    pub cluster: Option<String>,
    /// The Kubernetes Service behind the cluster, `ns/name:port`.
    pub service: Option<String>,
    /// The winning rule's weighted backends: (cluster or `<unresolved>`, weight, chosen).
    pub backends: Vec<(String, u32, bool)>,
    pub location: Option<String>,
    pub rule: Option<RuleStep>,
}

/// The one-line trace the plugin answers in its debug header (`traceHeader`), for the
/// same request.
pub fn trace_line(program: &Program, sent: &SentRequest, random: u64) -> String {
    let request = sent.view(random);
    let mut trace = Trace::default();
    let decision = program.evaluate_observed(&request, &mut Scratch::new(), &mut trace);
    program.trace_line(&trace, &decision)
}

/// Traces `sent` through `program`; `random` picks among weighted backends, as the
/// plugin's random draw would.
pub fn trace_request(
    program: &Program,
    locator: Option<&Locator<'_>>,
    sent: &SentRequest,
    random: u64,
) -> TraceReport {
    let request = sent.view(random);
    let mut trace = Trace::default();
    let decision = program.evaluate_observed(&request, &mut Scratch::new(), &mut trace);
    let plan = program.plan(&decision, &request);
    let rule_step = |entry: u32, verdict, failed, request_value| {
        let source = program.source(entry);
        RuleStep {
            entry,
            source: source.to_string(),
            location: locator
                .and_then(|l| l.locate(&source))
                .map(|l| format!("{}:{}", l.file, l.line)),
            verdict,
            failed,
            request_value,
        }
    };
    let host = switchyard_bytecode::eval::normalize_host(&sent.authority).to_ascii_lowercase();
    let mut vhosts = Vec::new();
    for (i, &vhost) in trace.vhosts.iter().enumerate() {
        let name = program.vhost_name(vhost).to_string();
        let reason = if i > 0 {
            format!(
                "no rule of vhost {} matched; Gateway API falls back to the next most specific hostname",
                trace.vhosts[i - 1]
            )
        } else {
            host_reason(&host, &name)
        };
        let mut rules = Vec::new();
        for entry in program.entries_of_vhost(vhost) {
            if decision.entry.is_some_and(|won| entry > won) {
                break;
            }
            if decision.entry == Some(entry) {
                rules.push(rule_step(entry, "won", None, None));
                continue;
            }
            let rejection = trace
                .rejections
                .iter()
                .find(|r| r.entry == entry && r.vhost == vhost);
            let step = match rejection {
                Some(r) => rule_step(
                    entry,
                    "passed over",
                    Some(program.predicate_text(r.predicate)),
                    program.predicate_subject(r.predicate, &request),
                ),
                // Not a candidate: the path index did not offer it for this path.
                None => rule_step(
                    entry,
                    "passed over",
                    Some(
                        program
                            .entry_path_text(vhost, entry)
                            .unwrap_or_else(|| "path".to_string()),
                    ),
                    Some(request.path.split(['?', '#']).next().unwrap_or("").to_string()),
                ),
            };
            rules.push(step);
        }
        vhosts.push(VhostStep {
            index: vhost,
            name,
            reason,
            rules,
        });
    }
    let backends: Vec<(String, u32, bool)> = decision
        .entry
        .map(|entry| {
            program
                .entry_backends(entry)
                .map(|b| {
                    let info = program.backend(b);
                    let name = info.cluster.unwrap_or("<unresolved: 500>").to_string();
                    (name, info.weight, plan.backend == Some(b))
                })
                .collect()
        })
        .unwrap_or_default();
    let (kind, status) = match decision.outcome {
        Outcome::Forward { .. } => ("forward", None),
        Outcome::Reply { status, .. } => ("reply", Some(status)),
        Outcome::Pass => ("pass", None),
        Outcome::Redirect { status, .. } => ("redirect", Some(status)),
    };
    let service = plan
        .cluster
        .and_then(|c| program.backend_by_cluster(c))
        .and_then(|b| b.service)
        .map(|s| format!("{}/{}:{}", s.namespace, s.name, s.port));
    let location = plan.reply.as_ref().and_then(|r| {
        r.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("location"))
            .map(|(_, v)| v.clone())
    });
    let decision_view = DecisionView {
        kind,
        status,
        cluster: plan.cluster.map(str::to_string),
        service,
        backends,
        location,
        rule: decision.entry.map(|e| rule_step(e, "won", None, None)),
    };
    TraceReport {
        request: RequestView {
            port: sent.port,
            method: sent.method.clone(),
            scheme: sent.scheme.clone(),
            authority: sent.authority.clone(),
            path: sent.path.clone(),
            headers: sent.headers.clone(),
            sni: sent.sni.clone(),
        },
        listener: trace.listener.flatten().map(|l| program.listener_port(l)),
        vhosts,
        decision: decision_view,
        actions: actions(&plan),
    }
}

/// Why the vhost named `name` was chosen for `host`.
fn host_reason(host: &str, name: &str) -> String {
    if name == "*" {
        format!("no hostname of this listener matches {host:?}; its catch-all serves it")
    } else if name.eq_ignore_ascii_case(host) {
        format!("hostname {name} equals the request's host")
    } else if name.starts_with('*') {
        format!("wildcard {name} is the most specific hostname of the listener matching {host:?}")
    } else {
        format!("serves the request's host {host:?}")
    }
}

/// The winning rule's effects, in the order the proxy applies them.
fn actions(plan: &switchyard_bytecode::Plan<'_>) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(authority) = &plan.authority {
        out.push(format!("rewrite host to {authority}"));
    }
    if let Some(path) = &plan.path {
        out.push(format!("rewrite path to {path}"));
    }
    let edit = |side: &str, op: &HeaderOp<'_>| match op.edit {
        HeaderEdit::Set => format!("{side} header set {}: {:?}", op.name, op.value),
        HeaderEdit::Add => format!("{side} header add {}: {:?}", op.name, op.value),
        HeaderEdit::Remove => format!("{side} header remove {}", op.name),
    };
    out.extend(plan.request_headers.iter().map(|op| edit("request", op)));
    out.extend(plan.response_headers.iter().map(|op| edit("response", op)));
    for mirror in &plan.mirrors {
        out.push(format!("mirror to {}", mirror.cluster));
    }
    if let Some(ms) = plan.request_timeout_ms {
        out.push(match ms {
            0 => "request timeout disabled".to_string(),
            ms => format!("request timeout {ms} ms"),
        });
    }
    if let Some(ms) = plan.backend_timeout_ms {
        out.push(format!("backend request timeout {ms} ms"));
    }
    if let Some(retry) = &plan.retry {
        let codes = retry.codes.map(|c| format!(" codes {c}")).unwrap_or_default();
        out.push(format!(
            "retry {} times on {}{codes}",
            retry.attempts, retry.retry_on
        ));
    }
    if let Some(ms) = plan.delay_ms {
        out.push(format!("delay {ms} ms (fault injection)"));
    }
    if let Some(reply) = &plan.reply {
        for (name, value) in &reply.headers {
            out.push(format!("reply header {name}: {value}"));
        }
    }
    out
}
