//! CORS policies with flag `ENVOY` (Istio `corsPolicy`), answered the way Envoy's CORS
//! filter (`envoy.filters.http.cors`) answers them, since that is what Istio configures:
//! - the Origin is allowed when one matcher matches it, or matches the literal `*`
//!   (Envoy's `isOriginAllowed`: an `exact: "*"` entry allows every origin);
//! - a preflight (OPTIONS with a non-empty `Access-Control-Request-Method`) from an
//!   allowed origin is answered 200 with the Origin echoed, the configured methods and
//!   headers as written, max-age when set, credentials when allowed and the exposed
//!   headers (added when the answer passes the filter's response path);
//! - a preflight from an origin not allowed goes on to the route when
//!   `FORWARD_UNMATCHED_PREFLIGHTS` is set (Istio `unmatchedPreflights: FORWARD`, its
//!   default), else it is answered 200 without CORS headers (`IGNORE`);
//! - any other request from an allowed origin gets the Origin echoed, credentials and
//!   exposed headers on its response; from another origin, nothing.

use std::borrow::Cow;

use super::Request;
use super::plan::{HeaderEdit, HeaderOp, Plan, Reply};
use crate::format::{NONE, cors_flag, origin, section};
use crate::program::Program;

impl Program {
    pub(super) fn envoy_cors<'p>(&'p self, policy: u32, request: &Request<'_>, plan: &mut Plan<'p>) {
        let header = |name: &str| request.headers.get(name);
        let Some(origin) = header("origin").filter(|o| !o.is_empty()) else {
            return;
        };
        let word = |w| self.word(section::CORS, policy, w);
        let flags = word(0);
        let credentials = flags & cors_flag::ALLOW_CREDENTIALS != 0;
        let allowed = (word(1)..word(1).saturating_add(word(2)))
            .any(|m| self.origin_matcher(m, "*") || self.origin_matcher(m, origin));
        let preflight = request.method == "OPTIONS"
            && header("access-control-request-method").is_some_and(|m| !m.is_empty());
        let (methods, headers, expose) = (self.string(word(3)), self.string(word(4)), self.string(word(5)));
        if preflight {
            if !allowed {
                if flags & cors_flag::FORWARD_UNMATCHED_PREFLIGHTS == 0 {
                    plan.reply = Some(Reply {
                        status: 200,
                        body: None,
                        headers: Vec::new(),
                    });
                }
                return;
            }
            let mut out = vec![("access-control-allow-origin", origin.to_string())];
            if credentials {
                out.push(("access-control-allow-credentials", "true".to_string()));
            }
            if !methods.is_empty() {
                out.push(("access-control-allow-methods", methods.to_string()));
            }
            if !headers.is_empty() {
                out.push(("access-control-allow-headers", headers.to_string()));
            }
            if word(6) != NONE {
                out.push(("access-control-max-age", word(6).to_string()));
            }
            if !expose.is_empty() {
                out.push(("access-control-expose-headers", expose.to_string()));
            }
            plan.reply = Some(Reply {
                status: 200,
                body: None,
                headers: out,
            });
            return;
        }
        if !allowed {
            return;
        }
        let mut set = |name: &'static str, value: Cow<'p, str>| {
            plan.response_headers.push(HeaderOp {
                edit: HeaderEdit::Set,
                name,
                value,
            });
        };
        set("access-control-allow-origin", Cow::Owned(origin.to_string()));
        if credentials {
            set("access-control-allow-credentials", Cow::Borrowed("true"));
        }
        if !expose.is_empty() {
            set("access-control-expose-headers", Cow::Borrowed(expose));
        }
    }

    /// CORS_ORIGINS record `m` against `text`: Envoy string matchers, case-sensitive;
    /// a regex must match the whole text (the writer anchors it).
    fn origin_matcher(&self, m: u32, text: &str) -> bool {
        let operand = self.word(section::CORS_ORIGINS, m, 1);
        match self.word(section::CORS_ORIGINS, m, 0) {
            origin::EXACT => self.string(operand) == text,
            origin::PREFIX => text.starts_with(self.string(operand)),
            origin::REGEX => self
                .regexes
                .get(operand as usize)
                .is_some_and(|regex| regex.is_match(text)),
            _ => false,
        }
    }
}
