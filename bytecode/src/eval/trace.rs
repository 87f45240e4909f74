//! Request traces: what the evaluator did on the way to a decision. The evaluator reports
//! each step to an [`Observer`]; [`Trace`] records them, and the helpers here turn the
//! recorded indices into words (the condition that failed and the request's value).

use super::{Request, Scratch};
use crate::format::{NONE, pred, section};
use crate::program::Program;

/// Receives the evaluator's steps. Every method defaults to doing nothing, and `()`
/// implements the trait, so the plain [`Program::evaluate`] pays nothing for it.
pub trait Observer {
    /// The listener chosen by port; `None` when no listener has the request's port.
    fn listener(&mut self, _listener: Option<u32>) {}
    /// A vhost is searched: first the one chosen by host, then its fallbacks.
    fn vhost(&mut self, _vhost: u32) {}
    /// A candidate entry (its path fitted the index) was passed over because
    /// `predicate` did not hold; earlier predicates of the entry held.
    fn rejected(&mut self, _entry: u32, _predicate: u32) {}
}

impl Observer for () {}

/// An observer that may be absent: one instantiation of the evaluator serves traced and
/// untraced requests alike (the plugin's choice: a second copy of the evaluator would
/// cost the module several kilobytes, a branch per observed step costs nothing
/// measurable).
impl<O: Observer> Observer for Option<O> {
    fn listener(&mut self, listener: Option<u32>) {
        if let Some(o) = self {
            o.listener(listener);
        }
    }
    fn vhost(&mut self, vhost: u32) {
        if let Some(o) = self {
            o.vhost(vhost);
        }
    }
    fn rejected(&mut self, entry: u32, predicate: u32) {
        if let Some(o) = self {
            o.rejected(entry, predicate);
        }
    }
}

/// One candidate passed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rejection {
    pub vhost: u32,
    pub entry: u32,
    /// The first predicate of the entry that did not hold.
    pub predicate: u32,
}

/// The steps of one evaluation, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trace {
    /// `None` until the evaluator looked; `Some(None)` when no listener had the port.
    pub listener: Option<Option<u32>>,
    /// Vhosts searched, in order: the one chosen by host, then fallbacks.
    pub vhosts: Vec<u32>,
    pub rejections: Vec<Rejection>,
}

impl Observer for Trace {
    fn listener(&mut self, listener: Option<u32>) {
        self.listener = Some(listener);
    }
    fn vhost(&mut self, vhost: u32) {
        self.vhosts.push(vhost);
    }
    fn rejected(&mut self, entry: u32, predicate: u32) {
        let vhost = self.vhosts.last().copied().unwrap_or(NONE);
        self.rejections.push(Rejection {
            vhost,
            entry,
            predicate,
        });
    }
}

impl Program {
    /// The port of listener `listener`.
    pub fn listener_port(&self, listener: u32) -> u32 {
        self.word(section::LISTENERS, listener, 0)
    }

    /// The host pattern a vhost serves (`*` for a catch-all).
    pub fn vhost_name(&self, vhost: u32) -> &str {
        self.string(self.word(section::VHOSTS, vhost, 6))
    }

    /// The predicate as text, e.g. `header x-user = "a"`.
    pub fn predicate_text(&self, predicate: u32) -> String {
        self.describe_predicate(predicate)
    }

    /// What the request offers to `predicate`: the header's value (repeats joined with
    /// `,`), the query parameter's value, the method or the path; `None` when the
    /// request has no such header or parameter.
    pub fn predicate_subject(&self, predicate: u32, request: &Request<'_>) -> Option<String> {
        let head = (self.word(section::PREDICATES, predicate, 0) & 0xFF) as u8;
        let a = self.word(section::PREDICATES, predicate, 1);
        let mut scratch = Scratch::new();
        match head {
            pred::METHOD => Some(request.method.to_string()),
            pred::HEADER_EXACT
            | pred::HEADER_PREFIX
            | pred::HEADER_REGEX
            | pred::HEADER_PRESENT
            | pred::HEADER_ABSENT => self
                .header(request, self.string(a), &mut scratch.joined)
                .map(str::to_string),
            pred::QUERY_EXACT | pred::QUERY_PREFIX | pred::QUERY_REGEX | pred::QUERY_PRESENT => self
                .query_value(request.path, a, &mut scratch.decoded)
                .map(|value| String::from_utf8_lossy(value).into_owned()),
            _ => Some(request.path.split(['?', '#']).next().unwrap_or("").to_string()),
        }
    }

    /// The path condition under which the index files `entry` (`path prefix /a`,
    /// `path = /a`), or `None` for entries tried on every path (regex paths).
    pub fn entry_path_text(&self, vhost: u32, entry: u32) -> Option<String> {
        self.entry_paths(vhost)
            .into_iter()
            .find(|(e, _)| *e == entry)
            .map(|(_, text)| text)
    }

    /// The entry's action as text (the listing's words).
    pub fn action_text(&self, entry: u32) -> String {
        self.describe_action(entry)
    }
}

impl Program {
    /// The backend records of the entry's forward action, in order; empty for entries
    /// that answer or redirect.
    pub fn entry_backends(&self, entry: u32) -> core::ops::Range<u32> {
        let action = self.word(section::ENTRIES, entry, 2);
        let start = self.word(section::ACTIONS, action, 0);
        let len = self.word(section::ACTIONS, action, 1);
        let last = start.saturating_add(len).saturating_sub(1);
        if len == 0 || (self.word(section::OPS, last, 0) & 0xFF) as u8 != crate::format::op::FORWARD {
            return 0..0;
        }
        let set = self.word(section::OPS, last, 1);
        let first = self.word(section::BACKEND_SETS, set, 0);
        first..first.saturating_add(self.word(section::BACKEND_SETS, set, 1))
    }
}

/// Upper bound of [`Program::trace_line`], so a trace always fits in a response header.
pub const TRACE_LINE_MAX: usize = 4096;

impl Program {
    /// A one-line, header-safe trace (printable ASCII, at most [`TRACE_LINE_MAX`]
    /// bytes), for the plugin's debug header:
    /// `listener=80 vhost=0:shop.example.com passed=#0[method = POST],#1[...] won=#2[HTTPRoute ns/name rule 0 match 0] cluster=...`.
    pub fn trace_line(&self, trace: &Trace, decision: &super::Decision<'_>) -> String {
        use core::fmt::Write;
        let mut line = String::new();
        // Writing to a String cannot fail.
        match trace.listener.flatten() {
            Some(listener) => {
                let _ = write!(line, "listener={}", self.listener_port(listener));
            }
            None => line.push_str("listener=none"),
        }
        for &vhost in &trace.vhosts {
            let _ = write!(line, " vhost={vhost}:{}", self.vhost_name(vhost));
        }
        if !trace.rejections.is_empty() {
            line.push_str(" passed=");
            for (i, r) in trace.rejections.iter().enumerate() {
                let sep = if i == 0 { "" } else { "," };
                let _ = write!(line, "{sep}#{}[{}]", r.entry, self.predicate_text(r.predicate));
            }
        }
        match decision.entry {
            Some(entry) => {
                let _ = write!(line, " won=#{entry}[{}]", self.source(entry));
            }
            None => line.push_str(" won=none"),
        }
        match decision.outcome {
            super::Outcome::Forward { cluster, .. } => {
                let _ = write!(line, " cluster={cluster}");
            }
            super::Outcome::Reply { status, .. } | super::Outcome::Redirect { status, .. } => {
                let _ = write!(line, " status={status}");
            }
            super::Outcome::Pass => line.push_str(" pass"),
        }
        header_safe(line)
    }
}

/// Replaces anything but printable ASCII with `?` and cuts at [`TRACE_LINE_MAX`].
fn header_safe(line: String) -> String {
    let mut safe: String = line
        .chars()
        .map(|c| if c == ' ' || c.is_ascii_graphic() { c } else { '?' })
        .collect();
    if safe.len() > TRACE_LINE_MAX {
        safe.truncate(TRACE_LINE_MAX - 3);
        safe.push_str("...");
    }
    safe
}
