//! One predicate against one request.

use super::{Request, Scratch};
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
        let a = self.word(section::PREDICATES, index, 1);
        let b = self.word(section::PREDICATES, index, 2);
        match (head & 0xFF) as u8 {
            // Gateway API method match: exact, case-sensitive.
            pred::METHOD => request.method.as_bytes() == self.string_bytes(a),
            pred::HEADER_EXACT => header_value(request.headers, self.string(a), &mut scratch.joined)
                .is_some_and(|value| value.as_bytes() == self.string_bytes(b)),
            pred::HEADER_REGEX => header_value(request.headers, self.string(a), &mut scratch.joined)
                .is_some_and(|value| self.regex_matches(b, value)),
            pred::HEADER_PRESENT => has_header(request.headers, self.string(a)),
            pred::HEADER_ABSENT => !has_header(request.headers, self.string(a)),
            pred::QUERY_EXACT => self
                .query_value(request.path, a, &mut scratch.decoded)
                .is_some_and(|value| value == self.string_bytes(b)),
            pred::QUERY_REGEX => {
                let Some(value) = self.query_value(request.path, a, &mut scratch.decoded) else {
                    return false;
                };
                core::str::from_utf8(value).is_ok_and(|text| self.regex_matches(b, text))
            }
            pred::PATH_REGEX => self.regex_matches(b, path),
            // The loader refuses unknown opcodes; fail closed regardless.
            _ => false,
        }
    }

    fn regex_matches(&self, regex: u32, subject: &str) -> bool {
        self.regexes
            .get(regex as usize)
            .is_some_and(|re| re.is_match(subject))
    }
}

fn has_header(headers: &[(String, String)], name: &str) -> bool {
    headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
}

/// The value of header `name`; repeated headers are joined with `,` (as Envoy's header
/// matchers see them; Gateway API leaves repeats implementation-specific).
fn header_value<'r>(headers: &'r [(String, String)], name: &str, joined: &'r mut String) -> Option<&'r str> {
    let mut values = headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str());
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
