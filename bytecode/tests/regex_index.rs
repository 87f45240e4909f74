//! Regex paths are indexed at the trie node of their literal start: a request tries only
//! the regexes whose certain leading segments it has, and precedence is unchanged.

mod common;

use common::*;
use switchyard_bytecode::{Scratch, Trace};

/// Entry 0 `/a/[0-9]+` waits at `a`, entry 2 `/b/x.*` at `b`; `.*/end` has no literal
/// start and is tried on every path.
fn program() -> switchyard_bytecode::Program {
    load(&on_port(vec![vhost(
        "*",
        vec![
            to(regex("/a/[0-9]+"), "a-number"),
            to(prefix("/a"), "a-prefix"),
            to(regex("/b/x.*"), "b-x"),
            to(regex(".*/end"), "anything-ending"),
        ],
    )]))
}

/// The entries tried and passed over on the way to the decision.
fn tried(p: &switchyard_bytecode::Program, path: &str) -> (Option<u32>, Vec<u32>) {
    let mut trace = Trace::default();
    let request = get("example.com", path);
    let decision = p.evaluate_observed(&request.view(), &mut Scratch::new(), &mut trace);
    (decision.entry, trace.rejections.iter().map(|r| r.entry).collect())
}

#[test]
fn a_regex_path_is_only_tried_along_its_literal_segments() {
    let p = program();
    // Neither `/a/...` nor `/b/...` regex is tried for `/c/...`.
    assert_eq!(tried(&p, "/c/1"), (None, vec![3]));
    assert_eq!(tried(&p, "/c/end"), (Some(3), vec![]));
}

#[test]
fn indexed_regex_paths_keep_their_precedence() {
    let p = program();
    assert_eq!(tried(&p, "/a/12"), (Some(0), vec![]));
    // The regex comes first and fails; the prefix after it wins.
    assert_eq!(tried(&p, "/a/x"), (Some(1), vec![0]));
    assert_eq!(tried(&p, "/b/xyz"), (Some(2), vec![]));
    assert_eq!(tried(&p, "/b/q/end"), (Some(3), vec![2]));
    // Segment-wise: `/ab/1` does not walk through `a`.
    assert_eq!(tried(&p, "/ab/1"), (None, vec![3]));
}
