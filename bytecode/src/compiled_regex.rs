//! A program's regex as the evaluator runs it: regex-lite always, and beside it the
//! bit-parallel matcher (`bitset_regex`) for the patterns and texts that one decides,
//! which is most of a route table's. The answers are the same; only the cost differs.

use std::borrow::Cow;

use crate::bitset_regex::BitsetRegex;

#[derive(Debug)]
pub(crate) struct CompiledRegex {
    regex: regex_lite::Regex,
    bitset: Option<BitsetRegex>,
}

impl CompiledRegex {
    /// `regex` is `pattern` compiled by regex-lite (which validated it).
    pub fn new(pattern: &str, regex: regex_lite::Regex) -> Self {
        CompiledRegex {
            regex,
            bitset: BitsetRegex::new(pattern),
        }
    }

    /// Whether the pattern matches in `text`; for the anchored match regexes the writer
    /// stores, whether it matches the whole text.
    pub fn is_match(&self, text: &str) -> bool {
        match self.bitset.as_ref().and_then(|bitset| bitset.full_match(text)) {
            Some(answer) => answer,
            None => self.regex.is_match(text),
        }
    }

    /// Every match in `text` replaced (captures as `${1}`); regex-lite alone.
    pub fn replace_all<'t>(&self, text: &'t str, replacement: &str) -> Cow<'t, str> {
        self.regex.replace_all(text, replacement)
    }
}
