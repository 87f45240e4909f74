//! The path segments every match of a regex path must start with, so that the writer can
//! index a regex-path entry at that trie node instead of in the vhost's regex list: a
//! request then tries only the regexes whose literal start fits its path, rather than
//! every regex of the vhost (a table of 10 000 rules with 500 regex paths would otherwise
//! run 500 regexes for each request no earlier rule takes).
//!
//! Only what is certain counts. The literal run ends at the first character with a
//! meaning (`\ . + * ? ( ) | [ ] { } ^ $`); a quantifier makes the character before it
//! optional, so that character is dropped too; a `|` outside every group or class, or a
//! leading flag group like `(?i)`, leaves no literal start at all. Of the literal run,
//! only complete segments (up to its last `/`) are used, since the trie is walked one
//! whole segment at a time. The entry keeps its PATH_REGEX predicate, so the index only
//! narrows the candidates, never decides.

/// The complete literal segments a match of `pattern` (matched against the whole path)
/// always starts with; `None` when there are none.
pub(crate) fn literal_segments(pattern: &str) -> Option<Vec<String>> {
    if has_top_level_alternation(pattern) {
        return None;
    }
    let mut literal = String::new();
    for c in pattern.chars() {
        match c {
            '?' | '*' | '{' => {
                literal.pop();
                break;
            }
            '\\' | '.' | '+' | '(' | ')' | '|' | '[' | ']' | '}' | '^' | '$' => break,
            // Whitespace and `#` mean something only in verbose mode, which needs a flag
            // group first; they are literal here.
            other => literal.push(other),
        }
    }
    let complete = literal.strip_prefix('/')?.rsplit_once('/')?.0;
    let segments: Vec<String> = complete.split('/').map(str::to_string).collect();
    // An empty segment (`//`) is walked as such, but nothing else indexes one: keep the
    // entry in the regex list rather than rely on it.
    (!segments.iter().any(String::is_empty)).then_some(segments)
}

/// Whether `pattern` has a `|` outside every group and character class.
fn has_top_level_alternation(pattern: &str) -> bool {
    let mut depth = 0usize;
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '[' => {
                // A class ends at the first `]` that is not its first member.
                if chars.peek() == Some(&'^') {
                    chars.next();
                }
                if chars.peek() == Some(&']') {
                    chars.next();
                }
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        ']' => break,
                        _ => {}
                    }
                }
            }
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            '|' if depth == 0 => return true,
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::literal_segments;

    fn segments(pattern: &str) -> Option<Vec<String>> {
        literal_segments(pattern)
    }

    fn some(segments: &[&str]) -> Option<Vec<String>> {
        Some(segments.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn complete_literal_segments_before_the_first_special_character() {
        assert_eq!(segments("/ads32/[0-9]+/(details|history)"), some(&["ads32"]));
        assert_eq!(segments("/api/v1/users/[^/]+"), some(&["api", "v1", "users"]));
        assert_eq!(segments("/api/v1/users/x.*"), some(&["api", "v1", "users"]));
        // The segment the special character is in is not complete.
        assert_eq!(segments("/api/v[0-9]+/x"), some(&["api"]));
    }

    #[test]
    fn nothing_certain_means_no_segments() {
        for pattern in [
            "/v[0-9]+/.*",
            ".*/foo/",
            "(?i)/api/v1/x",
            "/api/v1/x|/other/y",
            "/api/x|y",
            "api/v1/x",
            "/a//b/c",
            "\\/api/v1/x",
        ] {
            assert_eq!(segments(pattern), None, "{pattern}");
        }
    }

    #[test]
    fn a_quantifier_makes_the_character_before_it_optional() {
        // `/foo/?x` matches `/foox`: the `/` after `foo` is not certain.
        assert_eq!(segments("/foo/?x"), None);
        assert_eq!(segments("/a/foo/?x"), some(&["a"]));
        assert_eq!(segments("/a/b/*c"), some(&["a"]));
        assert_eq!(segments("/a/b/{1,2}c"), some(&["a"]));
        // `+` keeps at least one of the character.
        assert_eq!(segments("/a/b/+c"), some(&["a", "b"]));
    }

    #[test]
    fn alternation_inside_groups_and_classes_is_not_top_level() {
        assert_eq!(segments("/a/b/(x|y)"), some(&["a", "b"]));
        assert_eq!(segments("/a/b/[|]"), some(&["a", "b"]));
        assert_eq!(segments("/a/b/[]|]"), some(&["a", "b"]));
        assert_eq!(segments("/a/b/\\|"), some(&["a", "b"]));
        assert_eq!(segments("/a/b/(x)|y"), None);
    }
}
