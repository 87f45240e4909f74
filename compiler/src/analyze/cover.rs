//! Whether every request one entry matches is also matched by another: the proof behind
//! "shadowed" findings. Conservative: `true` only when it follows from the conditions
//! themselves (same or wider path, each condition of the wider entry implied by one of
//! the narrower entry's); anything it cannot decide counts as not covered.

use switchyard_bytecode::ir::{EntryIr, PathIr, PredicateIr};

/// Every request `narrow` matches is matched by `wide` too.
pub fn covers(wide: &EntryIr, narrow: &EntryIr) -> bool {
    path_covers(&wide.path, &narrow.path)
        && wide
            .predicates
            .iter()
            .all(|w| narrow.predicates.iter().any(|n| implies(n, w)) || path_predicate_holds(w, &narrow.path))
}

/// The same conditions: neither entry can match a request the other does not.
pub fn same_conditions(a: &EntryIr, b: &EntryIr) -> bool {
    covers(a, b) && covers(b, a)
}

fn segments_of(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
}

/// Every path `narrow` accepts, `wide` accepts.
fn path_covers(wide: &PathIr, narrow: &PathIr) -> bool {
    if wide == narrow {
        return true;
    }
    match (wide, narrow) {
        // Gateway API PathPrefix: whole segments.
        (PathIr::Prefix(w), PathIr::Exact(n)) => {
            segments_of(n).starts_with(&w.iter().map(String::as_str).collect::<Vec<_>>())
        }
        (PathIr::Prefix(w), PathIr::Prefix(n)) => n.starts_with(w),
        (PathIr::Prefix(w), _) => w.is_empty(),
        (PathIr::Exact(_), _) => false,
        // Istio uri.prefix: plain string prefix.
        (PathIr::StringPrefix(w), PathIr::Exact(n)) | (PathIr::StringPrefix(w), PathIr::StringPrefix(n)) => {
            n.starts_with(w.as_str())
        }
        (PathIr::StringPrefix(w), PathIr::Prefix(n)) => format!("/{}", n.join("/")).starts_with(w.as_str()),
        (PathIr::StringPrefix(w), PathIr::Regex(_)) => w.is_empty() || w == "/",
        (PathIr::Regex(w), PathIr::Exact(n)) => {
            regex_lite::Regex::new(&format!("^(?:{w})$")).is_ok_and(|re| re.is_match(n))
        }
        (PathIr::Regex(_), _) => false,
    }
}

/// A path predicate of the wide entry that the narrow entry's path condition already
/// guarantees (e.g. Istio's case-sensitive `PathPrefix` next to an index prefix).
fn path_predicate_holds(wide: &PredicateIr, narrow: &PathIr) -> bool {
    match (wide, narrow) {
        (PredicateIr::PathPrefix(p), PathIr::Exact(n) | PathIr::StringPrefix(n)) => n.starts_with(p.as_str()),
        (PredicateIr::PathPrefix(p), PathIr::Prefix(n)) => {
            format!("/{}", n.join("/")).starts_with(p.as_str())
        }
        (PredicateIr::PathExact(p), PathIr::Exact(n)) => p == n,
        _ => false,
    }
}

/// Whether condition `n` (of the narrow entry) guarantees condition `w` (of the wide).
fn implies(n: &PredicateIr, w: &PredicateIr) -> bool {
    use PredicateIr as P;
    if n == w {
        return true;
    }
    let full_match = |pattern: &str, value: &str| {
        regex_lite::Regex::new(&format!("^(?:{pattern})$")).is_ok_and(|re| re.is_match(value))
    };
    match (n, w) {
        // A header that matches a value is present.
        (
            P::HeaderExact { name, .. } | P::HeaderPrefix { name, .. } | P::HeaderRegex { name, .. },
            P::HeaderPresent(wn),
        ) => name == wn,
        (P::HeaderExact { name, value }, P::HeaderPrefix { name: wn, value: wv })
        | (P::HeaderPrefix { name, value }, P::HeaderPrefix { name: wn, value: wv }) => {
            name == wn && value.starts_with(wv.as_str())
        }
        (P::HeaderExact { name, value }, P::HeaderRegex { name: wn, pattern }) => {
            name == wn && full_match(pattern, value)
        }
        (
            P::QueryExact { name, .. } | P::QueryPrefix { name, .. } | P::QueryRegex { name, .. },
            P::QueryPresent(wn),
        ) => name == wn,
        (P::QueryExact { name, value }, P::QueryPrefix { name: wn, value: wv })
        | (P::QueryPrefix { name, value }, P::QueryPrefix { name: wn, value: wv }) => {
            name == wn && value.starts_with(wv.as_str())
        }
        (P::QueryExact { name, value }, P::QueryRegex { name: wn, pattern }) => {
            name == wn && full_match(pattern, value)
        }
        // Case-insensitive comparisons are implied by the case-sensitive ones.
        (_, P::IgnoreCase(inner)) => implies(n, inner),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_bytecode::SourceKind;
    use switchyard_bytecode::ir::{ActionIr, SourceIr};

    fn entry(path: PathIr, predicates: Vec<PredicateIr>) -> EntryIr {
        EntryIr {
            path,
            predicates,
            filters: Vec::new(),
            action: ActionIr::Reply {
                status: 200,
                body: None,
            },
            source: SourceIr {
                kind: SourceKind::HttpRoute,
                namespace: "ns".into(),
                name: "r".into(),
                rule: 0,
                match_index: 0,
            },
        }
    }

    fn prefix(p: &str) -> PathIr {
        PathIr::Prefix(segments_of(p).iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn segment_prefix_covers_longer_prefixes_and_exact_paths_below_it() {
        assert!(covers(
            &entry(prefix("/api"), vec![]),
            &entry(prefix("/api/v1"), vec![])
        ));
        assert!(covers(
            &entry(prefix("/api"), vec![]),
            &entry(PathIr::Exact("/api/x".into()), vec![])
        ));
        assert!(!covers(
            &entry(prefix("/api"), vec![]),
            &entry(prefix("/apiary"), vec![])
        ));
        assert!(covers(
            &entry(prefix("/"), vec![]),
            &entry(PathIr::Regex("/a.*".into()), vec![])
        ));
    }

    #[test]
    fn string_prefix_covers_by_characters() {
        let wide = entry(PathIr::StringPrefix("/api".into()), vec![]);
        assert!(covers(
            &wide,
            &entry(PathIr::StringPrefix("/apiary".into()), vec![])
        ));
        assert!(!covers(&wide, &entry(PathIr::StringPrefix("/ap".into()), vec![])));
    }

    #[test]
    fn every_condition_of_the_wider_entry_must_be_implied() {
        let header = PredicateIr::HeaderExact {
            name: "x-env".into(),
            value: "canary".into(),
        };
        let wide = entry(prefix("/"), vec![PredicateIr::HeaderPresent("x-env".into())]);
        assert!(covers(&wide, &entry(prefix("/a"), vec![header.clone()])));
        assert!(!covers(&wide, &entry(prefix("/a"), vec![])));
        let method = entry(prefix("/"), vec![PredicateIr::Method("GET".into())]);
        assert!(!covers(&method, &entry(prefix("/a"), vec![header])));
    }

    #[test]
    fn regex_path_covers_an_exact_path_it_matches() {
        let wide = entry(PathIr::Regex("/u/[0-9]+".into()), vec![]);
        assert!(covers(&wide, &entry(PathIr::Exact("/u/42".into()), vec![])));
        assert!(!covers(&wide, &entry(PathIr::Exact("/u/x".into()), vec![])));
    }
}
