//! Differing requests grouped into classes: one class per (rule on the left, rule on the
//! right, kinds of change). A comparison of two large configurations differs on hundreds
//! of generated requests that all say the same thing; a class says it once, with the
//! first such request as its example. Classes come in the order of their examples
//! (the generator's stable order), so the report is the same on every run.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{Difference, Edits, Report, Summary, TestRequest};
use crate::locate::Locator;
use crate::rule_ref::RuleRef;

/// One way a decision changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Change {
    /// The set of clusters the request may go to (including forwarded on one side only).
    Backend,
    /// The same clusters with other shares.
    Weights,
    /// The status of a reply the proxy makes itself, or a reply on one side only.
    Status,
    /// The Location of a redirect, or a redirect on one side only.
    Redirect,
    /// The path or host the backend receives.
    Rewrite,
    RequestHeaders,
    ResponseHeaders,
    Mirrors,
    Faults,
    Timeout,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Backend => "backend",
            Change::Weights => "weights",
            Change::Status => "status",
            Change::Redirect => "redirect",
            Change::Rewrite => "rewrite",
            Change::RequestHeaders => "request-headers",
            Change::ResponseHeaders => "response-headers",
            Change::Mirrors => "mirrors",
            Change::Faults => "faults",
            Change::Timeout => "timeout",
        }
    }
}

/// The kinds of change between two summaries of one request, sorted.
pub fn changes(left: &Summary, right: &Summary) -> Vec<Change> {
    let mut out = Vec::new();
    let clusters = |s: &Summary| s.shares.iter().map(|(c, _)| c.clone()).collect::<Vec<_>>();
    if clusters(left) != clusters(right) {
        out.push(Change::Backend);
    } else if left.shares != right.shares {
        out.push(Change::Weights);
    }
    let replies = |s: &Summary| s.kind != "forward";
    if (replies(left) || replies(right)) && (left.kind != right.kind || left.status != right.status) {
        out.push(Change::Status);
    }
    if (left.kind == "redirect" || right.kind == "redirect") && left.location != right.location {
        out.push(Change::Redirect);
    }
    // Edits compare where both sides would send the request to the same cluster (or
    // both answer it): elsewhere the backend change says it all.
    for (cluster, a) in &left.edits {
        let Some((_, b)) = right.edits.iter().find(|(c, _)| c == cluster) else {
            continue;
        };
        if a.path != b.path || a.authority != b.authority {
            out.push(Change::Rewrite);
        }
        if a.request_headers != b.request_headers {
            out.push(Change::RequestHeaders);
        }
        if a.response_headers != b.response_headers {
            out.push(Change::ResponseHeaders);
        }
    }
    if left.mirrors != right.mirrors {
        out.push(Change::Mirrors);
    }
    if left.faults != right.faults {
        out.push(Change::Faults);
    }
    if left.request_timeout_ms != right.request_timeout_ms {
        out.push(Change::Timeout);
    }
    out.sort();
    out.dedup();
    out
}

/// Requests that changed the same way under the same rules.
#[derive(Debug, Clone)]
pub struct Class {
    pub changes: Vec<Change>,
    /// The rule that decided on each side; `None`: no rule matched.
    pub left_rule: Option<RuleRef>,
    pub right_rule: Option<RuleRef>,
    /// How many of the compared requests are in the class.
    pub count: usize,
    /// The first of them, with both decisions.
    pub example: Difference,
}

/// Groups a report's differences.
pub fn classify(report: &Report) -> Vec<Class> {
    type Key = (Option<RuleRef>, Option<RuleRef>, Vec<Change>);
    let mut classes: Vec<Class> = Vec::new();
    let mut index: BTreeMap<Key, usize> = BTreeMap::new();
    for d in &report.differences {
        let changes = changes(&d.left, &d.right);
        let key = (d.left.rule.clone(), d.right.rule.clone(), changes.clone());
        match index.get(&key) {
            Some(&i) => classes[i].count += 1,
            None => {
                index.insert(key, classes.len());
                classes.push(Class {
                    changes,
                    left_rule: d.left.rule.clone(),
                    right_rule: d.right.rule.clone(),
                    count: 1,
                    example: d.clone(),
                });
            }
        }
    }
    classes
}

/// A decision in a few words, relative to the request: the backends and shares (or the
/// reply), then only the edits that change something (path or host rewritten, request
/// headers set or removed, response headers added), mirrors, faults and timeout.
pub fn describe(summary: &Summary, request: &TestRequest) -> String {
    let percent = |ppm: u32| f64::from(ppm) / 10_000.0;
    let mut out = match summary.kind {
        "forward" => {
            let shares: Vec<String> = summary
                .shares
                .iter()
                .map(|(c, ppm)| format!("{c} {}%", percent(*ppm)))
                .collect();
            format!("forward to {}", shares.join(", "))
        }
        "redirect" => format!(
            "redirect {} to {}",
            summary.status.unwrap_or(0),
            summary.location.as_deref().unwrap_or("?")
        ),
        _ => format!("reply {}", summary.status.unwrap_or(0)),
    };
    let effects: Vec<(String, String)> = summary
        .edits
        .iter()
        .map(|(cluster, edits)| (cluster.clone(), edit_effects(edits, request)))
        .filter(|(_, text)| !text.is_empty())
        .collect();
    let uniform = effects.len() == summary.edits.len() && effects.windows(2).all(|w| w[0].1 == w[1].1);
    if uniform && let Some((_, text)) = effects.first() {
        out.push_str(&format!("; {text}"));
    } else {
        for (cluster, text) in &effects {
            out.push_str(&format!("; via {cluster}: {text}"));
        }
    }
    if !summary.mirrors.is_empty() {
        let mirrors: Vec<String> = summary
            .mirrors
            .iter()
            .map(|(c, ppm)| format!("{c} {}%", percent(*ppm)))
            .collect();
        out.push_str(&format!("; mirror to {}", mirrors.join(", ")));
    }
    if !summary.faults.is_empty() {
        out.push_str(&format!("; faults {}", summary.faults.join(", ")));
    }
    if let Some(ms) = summary.request_timeout_ms {
        out.push_str(&format!("; timeout {ms} ms"));
    }
    out
}

/// What `edits` change in `request`, in words; empty when nothing.
fn edit_effects(edits: &Edits, request: &TestRequest) -> String {
    let mut parts = Vec::new();
    let forwarded = !edits.path.is_empty() || !edits.authority.is_empty();
    if forwarded && (edits.path != request.path || edits.authority != request.authority) {
        parts.push(format!("upstream {}{}", edits.authority, edits.path));
    }
    if forwarded {
        let mut before = request.headers.clone();
        before.sort();
        let set: Vec<String> = edits
            .request_headers
            .iter()
            .filter(|h| !before.contains(h))
            .map(|(n, v)| format!("{n}: {v}"))
            .collect();
        let removed: Vec<String> = before
            .iter()
            .filter(|(n, _)| !edits.request_headers.iter().any(|(m, _)| m == n))
            .map(|(n, _)| format!("-{n}"))
            .collect();
        if !set.is_empty() || !removed.is_empty() {
            parts.push(format!(
                "request headers {}",
                set.into_iter().chain(removed).collect::<Vec<_>>().join(", ")
            ));
        }
    }
    if !edits.response_headers.is_empty() {
        let headers: Vec<String> = edits
            .response_headers
            .iter()
            .map(|(n, v)| format!("{n}: {v}"))
            .collect();
        parts.push(format!("response headers {}", headers.join(", ")));
    }
    parts.join("; ")
}

/// How reports name and locate one side.
#[derive(Debug, Clone, Copy)]
pub struct Labels<'a> {
    pub label: &'a str,
    pub locator: Option<&'a Locator<'a>>,
}

fn rule_text(rule: Option<&RuleRef>, side: &Labels<'_>) -> String {
    let Some(rule) = rule else {
        return "no rule matched".to_string();
    };
    match side.locator.and_then(|l| rule.locate(l)) {
        Some(at) => format!("{rule} ({}:{})", at.file, at.line),
        None => rule.to_string(),
    }
}

/// The classes as text: a heading line per class, the example request, then each side's
/// decision and rule.
pub fn render_text(classes: &[Class], left: Labels<'_>, right: Labels<'_>) -> String {
    let width = left.label.len().max(right.label.len());
    let mut out = String::new();
    for (i, class) in classes.iter().enumerate() {
        let kinds: Vec<&str> = class.changes.iter().map(|c| c.as_str()).collect();
        let requests = if class.count == 1 { "request" } else { "requests" };
        out.push_str(&format!(
            "[{}] {}: {} {requests}, e.g. {}\n",
            i + 1,
            kinds.join(", "),
            class.count,
            class.example.request
        ));
        for (side, summary, rule) in [
            (&left, &class.example.left, class.left_rule.as_ref()),
            (&right, &class.example.right, class.right_rule.as_ref()),
        ] {
            out.push_str(&format!(
                "    {:<width$}  {}\n    {:<width$}  by {}\n",
                format!("{}:", side.label),
                describe(summary, &class.example.request),
                "",
                rule_text(rule, side),
                width = width + 1
            ));
        }
    }
    out
}

fn rule_json(rule: Option<&RuleRef>, side: &Labels<'_>) -> Value {
    let Some(rule) = rule else {
        return Value::Null;
    };
    let at = side.locator.and_then(|l| rule.locate(l));
    json!({
        "kind": rule.kind,
        "namespace": rule.namespace,
        "name": rule.name,
        "rule": rule.rule,
        "match": rule.match_index,
        "file": at.as_ref().map(|a| a.file.clone()),
        "line": at.as_ref().map(|a| a.line),
    })
}

fn summary_json(
    summary: &Summary,
    request: &TestRequest,
    rule: Option<&RuleRef>,
    side: &Labels<'_>,
) -> Value {
    let shares: Vec<Value> = summary
        .shares
        .iter()
        .map(|(cluster, ppm)| json!({"cluster": cluster, "percent": f64::from(*ppm) / 10_000.0}))
        .collect();
    json!({
        "outcome": summary.kind,
        "status": summary.status,
        "location": summary.location,
        "backends": shares,
        "mirrors": summary.mirrors.iter().map(|(c, ppm)| json!({"cluster": c, "percent": f64::from(*ppm) / 10_000.0})).collect::<Vec<_>>(),
        "timeoutMs": summary.request_timeout_ms,
        "decision": describe(summary, request),
        "rule": rule_json(rule, side),
    })
}

/// The classes as JSON values; each side under its label.
pub fn render_json(classes: &[Class], left: Labels<'_>, right: Labels<'_>) -> Vec<Value> {
    classes
        .iter()
        .map(|class| {
            let r = &class.example.request;
            let headers: Vec<Value> = r.headers.iter().map(|(n, v)| json!([n, v])).collect();
            let mut value = json!({
                "changes": class.changes.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
                "requests": class.count,
                "example": {
                    "method": r.method, "scheme": r.scheme, "host": r.authority,
                    "path": r.path, "port": r.port, "headers": headers,
                },
            });
            value[left.label] = summary_json(&class.example.left, r, class.left_rule.as_ref(), &left);
            value[right.label] = summary_json(&class.example.right, r, class.right_rule.as_ref(), &right);
            value
        })
        .collect()
}
