//! One predicate against one request.

use super::{Headers, Request, Scratch};
use crate::format::{pred, section};
use crate::program::Program;

impl Program {
    pub(crate) fn predicate_holds(
        &self,
        index: u32,
        request: &Request<'_>,
        path: &str,
        scratch: &mut Scratch,
    ) -> bool {
        let head = self.word(section::PREDICATES, index, 0);
        let holds = self.test(head, index, request, path, scratch);
        // Istio `withoutHeaders`: the inverted test (a missing header never matches the
        // inner test, so it satisfies the inverted one).
        holds != (head & pred::NEGATE != 0)
    }

    fn test(&self, head: u32, index: u32, request: &Request<'_>, path: &str, scratch: &mut Scratch) -> bool {
        let a = self.word(section::PREDICATES, index, 1);
        let b = self.word(section::PREDICATES, index, 2);
        let fold = head & pred::IGNORE_CASE != 0;
        let equal = |x: &[u8], y: &[u8]| if fold { x.eq_ignore_ascii_case(y) } else { x == y };
        let starts = |x: &[u8], y: &[u8]| x.len() >= y.len() && equal(&x[..y.len()], y);
        match (head & 0xFF) as u8 {
            // Method match: exact, case-sensitive.
            pred::METHOD => request.method.as_bytes() == self.string_bytes(a),
            pred::HEADER_EXACT => self
                .header(request, self.string(a), &mut scratch.joined)
                .is_some_and(|value| equal(value.as_bytes(), self.string_bytes(b))),
            pred::HEADER_PREFIX => self
                .header(request, self.string(a), &mut scratch.joined)
                .is_some_and(|value| starts(value.as_bytes(), self.string_bytes(b))),
            pred::HEADER_REGEX => self
                .header(request, self.string(a), &mut scratch.joined)
                .is_some_and(|value| self.regex_matches(b, value)),
            pred::HEADER_PRESENT => self
                .header(request, self.string(a), &mut scratch.joined)
                .is_some(),
            pred::HEADER_ABSENT => self
                .header(request, self.string(a), &mut scratch.joined)
                .is_none(),
            pred::QUERY_EXACT => self
                .query_value(request.path, a, &mut scratch.decoded)
                .is_some_and(|value| equal(value, self.string_bytes(b))),
            pred::QUERY_PREFIX => self
                .query_value(request.path, a, &mut scratch.decoded)
                .is_some_and(|value| starts(value, self.string_bytes(b))),
            pred::QUERY_PRESENT => self.query_value(request.path, a, &mut scratch.decoded).is_some(),
            pred::QUERY_REGEX => {
                let Some(value) = self.query_value(request.path, a, &mut scratch.decoded) else {
                    return false;
                };
                core::str::from_utf8(value).is_ok_and(|text| self.regex_matches(b, text))
            }
            pred::PATH_REGEX => self.regex_matches(b, path),
            pred::PATH_PREFIX => starts(path.as_bytes(), self.string_bytes(a)),
            pred::PATH_EXACT => equal(path.as_bytes(), self.string_bytes(a)),
            // The loader refuses unknown opcodes; fail closed regardless.
            _ => false,
        }
    }

    /// A header's value; pseudo-headers come from the request line, so they need no
    /// header map.
    pub(crate) fn header<'r>(
        &self,
        request: &Request<'r>,
        name: &str,
        joined: &'r mut String,
    ) -> Option<&'r str> {
        match name {
            ":authority" => Some(request.authority),
            ":method" => Some(request.method),
            ":path" => Some(request.path),
            ":scheme" => Some(request.scheme),
            _ => header_value(request.headers, name, joined),
        }
    }

    fn regex_matches(&self, regex: u32, subject: &str) -> bool {
        self.regexes
            .get(regex as usize)
            .is_some_and(|re| re.is_match(subject))
    }
}

/// The value of header `name`; repeated headers are joined with `,` (as Envoy's header
/// matchers see them; Gateway API leaves repeats implementation-specific).
fn header_value<'r>(headers: Headers<'r>, name: &str, joined: &'r mut String) -> Option<&'r str> {
    let mut values = headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v);
    let first = values.next()?;
    let mut rest = values.peekable();
    if rest.peek().is_none() {
        return Some(first);
    }
    joined.clear();
    joined.push_str(first);
    for value in rest {
        joined.push(',');
        joined.push_str(value);
    }
    Some(joined.as_str())
}
