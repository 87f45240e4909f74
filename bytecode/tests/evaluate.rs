//! The evaluator's behaviour, one test per rule of the Gateway API text it implements
//! (reference sections 3, 4, 6, 7 and 9), named after the rule.

mod common;

use common::*;
use switchyard_bytecode::{Outcome, Program, Scratch};

/// One vhost `*` on [`PORT`] with these entries.
fn any_host(entries: Vec<switchyard_bytecode::ir::EntryIr>) -> Program {
    load(&on_port(vec![vhost("*", entries)]))
}

/// The route for `GET {path}` on any host.
fn path_route(program: &Program, path: &str) -> String {
    get("example.com", path).route(program)
}

const NOT_FOUND: &str = "status 404";

// ---------------------------------------------------------------------------------------
// Paths (section 6)

#[test]
fn exact_path_is_whole_path_equality() {
    let p = any_host(vec![to(exact("/abc"), "exact")]);
    assert_eq!(path_route(&p, "/abc"), "exact");
    for miss in ["/abc/", "/Abc", "/abcd", "/ab", "/abc/def", "/", "", "abc"] {
        assert_eq!(path_route(&p, miss), NOT_FOUND, "{miss}");
    }
}

#[test]
fn exact_path_beats_prefix_in_evaluation_order() {
    // The compiler puts Exact before PathPrefix; the evaluator honours that order.
    let p = any_host(vec![to(exact("/abc"), "exact"), to(prefix("/abc"), "prefix")]);
    assert_eq!(path_route(&p, "/abc"), "exact");
    assert_eq!(path_route(&p, "/abc/"), "prefix");
    assert_eq!(path_route(&p, "/abc/def"), "prefix");
}

#[test]
fn prefix_matches_whole_segments() {
    let p = any_host(vec![to(prefix("/abc"), "abc")]);
    for hit in ["/abc", "/abc/", "/abc/def", "/abc/def/ghi", "/abc//x"] {
        assert_eq!(path_route(&p, hit), "abc", "{hit}");
    }
    // (A path without a leading `/` never reaches the filter: Envoy rejects it.)
    for miss in ["/abcd", "/ab", "/ABC", "/", "/x/abc"] {
        assert_eq!(path_route(&p, miss), NOT_FOUND, "{miss}");
    }
}

#[test]
fn prefix_trailing_slash_in_value_is_ignored() {
    let p = any_host(vec![to(prefix("/abc/"), "abc")]);
    assert_eq!(path_route(&p, "/abc"), "abc");
    assert_eq!(path_route(&p, "/abc/def"), "abc");
    assert_eq!(path_route(&p, "/abcd"), NOT_FOUND);
}

#[test]
fn multi_segment_prefix_matches_only_below_it() {
    let p = any_host(vec![to(prefix("/a/b"), "ab")]);
    assert_eq!(path_route(&p, "/a/b"), "ab");
    assert_eq!(path_route(&p, "/a/b/c"), "ab");
    assert_eq!(path_route(&p, "/a/bc"), NOT_FOUND);
    assert_eq!(path_route(&p, "/a"), NOT_FOUND);
    assert_eq!(path_route(&p, "/a/"), NOT_FOUND);
}

#[test]
fn root_prefix_matches_every_path() {
    let p = any_host(vec![to(prefix("/"), "root")]);
    for path in ["/", "/a", "/a/b/c", "/?x=1", ""] {
        assert_eq!(path_route(&p, path), "root", "{path:?}");
    }
}

#[test]
fn longer_prefix_listed_first_wins() {
    let p = any_host(vec![
        to(prefix("/a/b"), "long"),
        to(prefix("/a"), "short"),
        to(prefix("/"), "root"),
    ]);
    assert_eq!(path_route(&p, "/a/b/c"), "long");
    assert_eq!(path_route(&p, "/a/c"), "short");
    assert_eq!(path_route(&p, "/c"), "root");
}

#[test]
fn query_string_is_not_part_of_the_path() {
    let p = any_host(vec![
        to(exact("/exact"), "exact"),
        to(prefix("/pre"), "prefix"),
        to(regex("/re/[a-z]+"), "regex"),
    ]);
    assert_eq!(path_route(&p, "/exact?x=1"), "exact");
    assert_eq!(path_route(&p, "/exact?"), "exact");
    assert_eq!(path_route(&p, "/exact#frag"), "exact");
    assert_eq!(path_route(&p, "/pre?a=/b"), "prefix");
    assert_eq!(path_route(&p, "/pre/x?y"), "prefix");
    assert_eq!(path_route(&p, "/re/abc?d=1"), "regex");
    // The query is not searched for a path either.
    assert_eq!(path_route(&p, "/x?/exact"), NOT_FOUND);
}

#[test]
fn regex_path_is_a_full_match() {
    let p = any_host(vec![to(regex("/api/v[0-9]+"), "re")]);
    assert_eq!(path_route(&p, "/api/v1"), "re");
    assert_eq!(path_route(&p, "/api/v42"), "re");
    for miss in ["/api/v1/x", "/x/api/v1", "/api/v", "/api/vx", "/API/v1"] {
        assert_eq!(path_route(&p, miss), NOT_FOUND, "{miss}");
    }
}

#[test]
fn regex_alternation_is_anchored_as_a_whole() {
    // `a|b` must mean `^(?:a|b)$`, not `^a|b$`.
    let p = any_host(vec![to(regex("/a|/b"), "re")]);
    assert_eq!(path_route(&p, "/a"), "re");
    assert_eq!(path_route(&p, "/b"), "re");
    assert_eq!(path_route(&p, "/ax"), NOT_FOUND);
    assert_eq!(path_route(&p, "/x/b"), NOT_FOUND);
}

// ---------------------------------------------------------------------------------------
// Hosts (section 3)

fn hosts() -> Program {
    load(&on_port(vec![
        vhost("foo.example.com", vec![to(prefix("/"), "exact")]),
        vhost("*.example.com", vec![to(prefix("/"), "wildcard")]),
        vhost("*.b.example.com", vec![to(prefix("/"), "longer-wildcard")]),
        vhost("*", vec![to(prefix("/"), "catch-all")]),
    ]))
}

#[test]
fn host_exact_beats_longest_wildcard_beats_catch_all() {
    let p = hosts();
    assert_eq!(get("foo.example.com", "/").route(&p), "exact");
    assert_eq!(get("bar.example.com", "/").route(&p), "wildcard");
    assert_eq!(get("a.b.example.com", "/").route(&p), "longer-wildcard");
    assert_eq!(get("foo.b.example.com", "/").route(&p), "longer-wildcard");
    assert_eq!(get("other.test", "/").route(&p), "catch-all");
}

#[test]
fn wildcard_matches_any_depth_but_not_the_bare_suffix() {
    let p = load(&on_port(vec![vhost(
        "*.example.com",
        vec![to(prefix("/"), "wildcard")],
    )]));
    for hit in ["a.example.com", "a.b.example.com", "a.b.c.d.example.com"] {
        assert_eq!(get(hit, "/").route(&p), "wildcard", "{hit}");
    }
    for miss in [
        "example.com",
        "xexample.com",
        "a.example.co",
        "a.example.com.evil",
        "com",
        "",
        ".example.com",
    ] {
        assert_eq!(get(miss, "/").route(&p), NOT_FOUND, "{miss}");
    }
}

#[test]
fn exact_host_does_not_match_subdomains() {
    let p = load(&on_port(vec![vhost(
        "example.com",
        vec![to(prefix("/"), "exact")],
    )]));
    assert_eq!(get("example.com", "/").route(&p), "exact");
    assert_eq!(get("a.example.com", "/").route(&p), NOT_FOUND);
    assert_eq!(get("example.com.", "/").route(&p), NOT_FOUND);
}

#[test]
fn port_is_stripped_from_host() {
    let p = hosts();
    assert_eq!(get("foo.example.com:8080", "/").route(&p), "exact");
    assert_eq!(get("foo.example.com:80", "/").route(&p), "exact");
    assert_eq!(get("bar.example.com:443", "/").route(&p), "wildcard");
    // Not a port: kept, so this is no exact or wildcard name.
    assert_eq!(get("foo.example.com:x", "/").route(&p), "catch-all");
}

#[test]
fn host_matching_is_case_insensitive() {
    let p = hosts();
    assert_eq!(get("FOO.Example.COM", "/").route(&p), "exact");
    assert_eq!(get("Bar.EXAMPLE.com:8080", "/").route(&p), "wildcard");
    assert_eq!(get("A.B.Example.Com", "/").route(&p), "longer-wildcard");
    // Patterns are lowercased when parsed too.
    let p = load(&on_port(vec![vhost(
        "*.Mixed.Example.COM",
        vec![to(prefix("/"), "w")],
    )]));
    assert_eq!(get("x.mixed.example.com", "/").route(&p), "w");
}

#[test]
fn no_matching_vhost_and_no_catch_all_is_404() {
    let p = load(&on_port(vec![vhost(
        "foo.example.com",
        vec![to(prefix("/"), "foo")],
    )]));
    let decision = get("bar.example.com", "/").eval(&p);
    assert_eq!(decision.entry, None);
    assert_eq!(decision.vhost, None);
    assert_eq!(
        decision.outcome,
        Outcome::Reply {
            status: 404,
            body: None,
            backend: None
        }
    );
}

// ---------------------------------------------------------------------------------------
// Vhost fallback (section 4, clause 1: rules of all matching hostnames compete)

fn fallback_chain(fallback: bool) -> Program {
    let make = if fallback { vhost } else { vhost_no_fallback };
    load(&on_port(vec![
        make("foo.example.com", vec![to(prefix("/a"), "exact-a")]),
        make(
            "*.example.com",
            vec![to(prefix("/b"), "wildcard-b"), to(prefix("/a"), "wildcard-a")],
        ),
        make("*", vec![to(prefix("/c"), "catch-all-c")]),
    ]))
}

#[test]
fn vhost_falls_back_when_no_entry_of_the_most_specific_matches() {
    let p = fallback_chain(true);
    assert_eq!(get("foo.example.com", "/a").route(&p), "exact-a");
    assert_eq!(get("foo.example.com", "/b").route(&p), "wildcard-b");
    assert_eq!(get("foo.example.com", "/c").route(&p), "catch-all-c");
    assert_eq!(get("foo.example.com", "/d").route(&p), NOT_FOUND);
    assert_eq!(get("bar.example.com", "/c").route(&p), "catch-all-c");
}

#[test]
fn vhost_with_a_match_never_falls_back() {
    // `/a` matches in the exact vhost, so the wildcard's `/a` entry is never reached
    // even though it is listed under a vhost that also matches the host.
    let p = fallback_chain(true);
    let decision = get("foo.example.com", "/a/x").eval(&p);
    assert_eq!(outcome(&decision), "exact-a");
    let exact_vhost = decision.vhost;
    let decision = get("foo.example.com", "/b").eval(&p);
    assert_ne!(
        decision.vhost, exact_vhost,
        "the winning entry's vhost is reported"
    );
}

#[test]
fn no_fallback_when_fallback_is_false() {
    let p = fallback_chain(false);
    assert_eq!(get("foo.example.com", "/a").route(&p), "exact-a");
    assert_eq!(get("foo.example.com", "/b").route(&p), NOT_FOUND);
    assert_eq!(get("foo.example.com", "/c").route(&p), NOT_FOUND);
    assert_eq!(get("bar.example.com", "/c").route(&p), NOT_FOUND);
    // The 404 names the vhost that was selected.
    let decision = get("foo.example.com", "/b").eval(&p);
    assert!(decision.vhost.is_some());
    assert_eq!(decision.entry, None);
}

#[test]
fn fallback_skips_to_the_next_matching_wildcard() {
    // `*.b.example.com` falls back to `*.example.com`, not to the unrelated
    // `*.other.com`, then to the catch-all.
    let p = load(&on_port(vec![
        vhost("*.b.example.com", vec![to(prefix("/1"), "b")]),
        vhost("*.other.com", vec![to(prefix("/2"), "other")]),
        vhost("*.example.com", vec![to(prefix("/2"), "example")]),
        vhost("*", vec![to(prefix("/3"), "any")]),
    ]));
    assert_eq!(get("a.b.example.com", "/1").route(&p), "b");
    assert_eq!(get("a.b.example.com", "/2").route(&p), "example");
    assert_eq!(get("a.b.example.com", "/3").route(&p), "any");
}

// ---------------------------------------------------------------------------------------
// Method, headers, query (section 7)

#[test]
fn method_match_is_exact() {
    let p = any_host(vec![to(prefix("/"), "post").with(method("POST"))]);
    assert_eq!(get("h", "/").method("POST").route(&p), "post");
    assert_eq!(get("h", "/").method("GET").route(&p), NOT_FOUND);
    assert_eq!(get("h", "/").method("post").route(&p), NOT_FOUND);
    assert_eq!(get("h", "/").method("POSTX").route(&p), NOT_FOUND);
}

#[test]
fn header_exact_match_compares_values_case_sensitively() {
    let p = any_host(vec![to(prefix("/"), "canary").with(header("x-canary", "true"))]);
    assert_eq!(get("h", "/").header("x-canary", "true").route(&p), "canary");
    assert_eq!(get("h", "/").header("x-canary", "True").route(&p), NOT_FOUND);
    assert_eq!(get("h", "/").header("x-canary", "true ").route(&p), NOT_FOUND);
    assert_eq!(get("h", "/").header("x-other", "true").route(&p), NOT_FOUND);
    assert_eq!(get("h", "/").route(&p), NOT_FOUND);
}

#[test]
fn header_names_are_case_insensitive() {
    let p = any_host(vec![
        to(prefix("/exact"), "exact").with(header("x-canary", "true")),
        to(prefix("/present"), "present").with(header_present("x-canary")),
        to(prefix("/absent"), "absent").with(header_absent("x-canary")),
    ]);
    assert_eq!(get("h", "/exact").header("X-Canary", "true").route(&p), "exact");
    assert_eq!(get("h", "/present").header("X-CANARY", "").route(&p), "present");
    assert_eq!(get("h", "/absent").header("X-Canary", "1").route(&p), NOT_FOUND);
}

#[test]
fn header_regex_is_a_full_match() {
    let p = any_host(vec![
        to(prefix("/"), "re").with(header_regex("x-version", "v[0-9]+")),
    ]);
    assert_eq!(get("h", "/").header("x-version", "v12").route(&p), "re");
    for miss in ["v", "xv1", "v1x", "V1", ""] {
        assert_eq!(
            get("h", "/").header("x-version", miss).route(&p),
            NOT_FOUND,
            "{miss}"
        );
    }
    assert_eq!(
        get("h", "/").route(&p),
        NOT_FOUND,
        "absent header never matches a regex"
    );
}

#[test]
fn header_present_and_absent() {
    let p = any_host(vec![
        to(prefix("/"), "present").with(header_present("x-debug")),
        to(prefix("/"), "absent").with(header_absent("x-debug")),
    ]);
    assert_eq!(get("h", "/").header("x-debug", "").route(&p), "present");
    assert_eq!(get("h", "/").header("x-debug", "1").route(&p), "present");
    assert_eq!(get("h", "/").route(&p), "absent");
    assert_eq!(get("h", "/").header("x-debugger", "1").route(&p), "absent");
}

#[test]
fn repeated_headers_are_joined_with_commas() {
    let p = any_host(vec![
        to(prefix("/exact"), "exact").with(header("x-env", "prod,canary")),
        to(prefix("/regex"), "regex").with(header_regex("x-env", "prod,.*")),
    ]);
    let twice = |path: &str| get("h", path).header("x-env", "prod").header("X-Env", "canary");
    assert_eq!(twice("/exact").route(&p), "exact");
    assert_eq!(twice("/regex").route(&p), "regex");
    // One value alone is not the joined value.
    assert_eq!(get("h", "/exact").header("x-env", "prod").route(&p), NOT_FOUND);
    // Other headers in between do not break the join.
    let spread = get("h", "/exact")
        .header("x-env", "prod")
        .header("x-a", "b")
        .header("x-env", "canary");
    assert_eq!(spread.route(&p), "exact");
}

#[test]
fn all_predicates_of_an_entry_must_hold() {
    let p = any_host(vec![
        to(prefix("/"), "both")
            .with(method("PUT"))
            .with(header("x-a", "1"))
            .with(query("q", "2")),
        to(prefix("/"), "fallthrough"),
    ]);
    let r = |m: &str, h: &str, path: &str| get("h", path).method(m).header("x-a", h).route(&p);
    assert_eq!(r("PUT", "1", "/?q=2"), "both");
    assert_eq!(r("GET", "1", "/?q=2"), "fallthrough");
    assert_eq!(r("PUT", "0", "/?q=2"), "fallthrough");
    assert_eq!(r("PUT", "1", "/?q=3"), "fallthrough");
}

#[test]
fn query_exact_uses_the_first_occurrence() {
    let p = any_host(vec![
        to(prefix("/one"), "one").with(query("a", "1")),
        to(prefix("/two"), "two").with(query("a", "2")),
    ]);
    assert_eq!(path_route(&p, "/one?a=1"), "one");
    assert_eq!(path_route(&p, "/one?a=1&a=2"), "one");
    assert_eq!(path_route(&p, "/two?a=1&a=2"), NOT_FOUND);
    assert_eq!(path_route(&p, "/two?b=1&a=2"), "two");
    assert_eq!(path_route(&p, "/one?aa=1"), NOT_FOUND);
    assert_eq!(path_route(&p, "/one?A=1"), NOT_FOUND, "names match exactly");
    assert_eq!(path_route(&p, "/one"), NOT_FOUND);
    assert_eq!(path_route(&p, "/one?a=1#x"), "one");
    assert_eq!(
        path_route(&p, "/one?x#a=1"),
        NOT_FOUND,
        "the fragment is not the query"
    );
}

#[test]
fn query_regex_uses_the_first_occurrence() {
    let p = any_host(vec![to(prefix("/"), "re").with(query_regex("v", "[0-9]+"))]);
    assert_eq!(path_route(&p, "/?v=42"), "re");
    assert_eq!(path_route(&p, "/?v=42&v=x"), "re");
    assert_eq!(path_route(&p, "/?v=x&v=42"), NOT_FOUND);
    assert_eq!(path_route(&p, "/?v=42x"), NOT_FOUND, "full match");
    assert_eq!(path_route(&p, "/?v="), NOT_FOUND);
}

#[test]
fn query_values_and_names_are_percent_decoded() {
    let p = any_host(vec![
        to(prefix("/v"), "value").with(query("q", "hello world")),
        to(prefix("/n"), "name").with(query("my key", "x")),
        to(prefix("/r"), "regex").with(query_regex("q", "a/b")),
    ]);
    assert_eq!(path_route(&p, "/v?q=hello%20world"), "value");
    assert_eq!(path_route(&p, "/v?q=hello world"), "value");
    assert_eq!(path_route(&p, "/v?q=hello%2"), NOT_FOUND);
    assert_eq!(path_route(&p, "/n?my%20key=x"), "name");
    assert_eq!(path_route(&p, "/r?q=a%2Fb"), "regex");
    assert_eq!(path_route(&p, "/r?q=a%2fb"), "regex");
}

#[test]
fn query_parameter_without_value_is_empty() {
    let p = any_host(vec![to(prefix("/"), "empty").with(query("flag", ""))]);
    assert_eq!(path_route(&p, "/?flag"), "empty");
    assert_eq!(path_route(&p, "/?flag="), "empty");
    assert_eq!(path_route(&p, "/?flag=1"), NOT_FOUND);
}

// ---------------------------------------------------------------------------------------
// Evaluation order (section 4)

#[test]
fn first_entry_in_evaluation_order_wins() {
    // The same three entries, each first in turn: whichever comes first wins, whether it
    // is indexed as an exact path, a trie node or a regex.
    let entries = [
        to(exact("/a/b"), "exact"),
        to(prefix("/a"), "prefix"),
        to(regex("/a/.*"), "regex"),
        to(prefix("/"), "root"),
    ];
    for first in 0..entries.len() {
        let mut ordered = vec![entries[first].clone()];
        ordered.extend(
            entries
                .iter()
                .enumerate()
                .filter(|&(i, _)| i != first)
                .map(|(_, e)| e.clone()),
        );
        let p = any_host(ordered);
        let expected = entries[first].source.name.clone();
        assert_eq!(path_route(&p, "/a/b"), expected, "{expected} first");
    }
}

#[test]
fn a_failing_predicate_passes_to_the_next_entry() {
    let p = any_host(vec![
        to(exact("/a"), "first").with(method("POST")),
        to(prefix("/a"), "second").with(header("x", "y")),
        to(regex("/a"), "third"),
    ]);
    assert_eq!(get("h", "/a").method("POST").route(&p), "first");
    assert_eq!(get("h", "/a").header("x", "y").route(&p), "second");
    assert_eq!(path_route(&p, "/a"), "third");
}

#[test]
fn identical_entries_first_wins() {
    let p = any_host(vec![to(prefix("/x"), "older"), to(prefix("/x"), "newer")]);
    let decision = get("h", "/x").eval(&p);
    assert_eq!(outcome(&decision), "older");
    assert_eq!(decision.entry, Some(0));
    assert_eq!(p.source(0).name, "older");
}

#[test]
fn no_match_is_404() {
    let p = any_host(vec![to(exact("/a"), "a")]);
    let decision = path_route(&p, "/b");
    assert_eq!(decision, NOT_FOUND);
    let decision = get("h", "/b").eval(&p);
    assert_eq!(decision.entry, None);
    assert!(decision.vhost.is_some(), "the catch-all was selected");
}

#[test]
fn unknown_listener_port_is_404() {
    let p = load(&program(vec![
        listener(80, vec![vhost("*", vec![to(prefix("/"), "eighty")])]),
        listener(8080, vec![vhost("*", vec![to(prefix("/"), "eighty-eighty")])]),
    ]));
    assert_eq!(get("h", "/").port(80).route(&p), "eighty");
    assert_eq!(get("h", "/").port(8080).route(&p), "eighty-eighty");
    for port in [0, 79, 81, 443, 8081, u32::MAX] {
        let decision = get("h", "/").port(port).eval(&p);
        assert_eq!(
            decision.outcome,
            Outcome::Reply {
                status: 404,
                body: None,
                backend: None
            },
            "{port}"
        );
        assert_eq!(decision.vhost, None);
    }
}

#[test]
fn listeners_are_isolated() {
    // The same host on two ports routes by the port's own vhosts.
    let p = load(&program(vec![
        listener(80, vec![vhost("foo.example.com", vec![to(prefix("/"), "http")])]),
        listener(
            443,
            vec![vhost("foo.example.com", vec![to(prefix("/"), "https")])],
        ),
        listener(8080, vec![vhost("bar.example.com", vec![to(prefix("/"), "bar")])]),
    ]));
    assert_eq!(get("foo.example.com", "/").port(80).route(&p), "http");
    assert_eq!(get("foo.example.com", "/").port(443).route(&p), "https");
    assert_eq!(get("foo.example.com", "/").port(8080).route(&p), NOT_FOUND);
}

// ---------------------------------------------------------------------------------------
// Backends (section 9)

#[test]
fn weighted_pick_is_weight_proportional() {
    let p = any_host(vec![weighted(
        prefix("/"),
        &[
            (1, Some("one")),
            (2, Some("two")),
            (0, Some("zero")),
            (3, Some("three")),
        ],
    )]);
    let total = 6;
    let rounds = 50;
    let mut counts = std::collections::BTreeMap::new();
    let mut scratch = Scratch::new();
    for random in 0..total * rounds {
        let request = get("h", "/").random(random);
        *counts
            .entry(outcome(&p.evaluate(&request.view(), &mut scratch)))
            .or_insert(0) += 1;
    }
    let expected: std::collections::BTreeMap<String, u64> =
        [("one", rounds), ("two", 2 * rounds), ("three", 3 * rounds)]
            .map(|(k, v)| (k.to_string(), v))
            .into();
    assert_eq!(counts, expected);
}

#[test]
fn weighted_pick_uses_the_whole_random_range() {
    let p = any_host(vec![weighted(prefix("/"), &[(1, Some("a")), (1, Some("b"))])]);
    assert_eq!(get("h", "/").random(0).route(&p), "a");
    assert_eq!(get("h", "/").random(1).route(&p), "b");
    assert_eq!(get("h", "/").random(u64::MAX).route(&p), "b");
    assert_eq!(get("h", "/").random(u64::MAX - 1).route(&p), "a");
}

#[test]
fn weight_zero_is_never_picked() {
    let p = any_host(vec![weighted(
        prefix("/"),
        &[(0, Some("never")), (5, Some("always")), (0, Some("never2"))],
    )]);
    for random in (0..1000).chain([u64::MAX, u64::MAX / 2]) {
        assert_eq!(get("h", "/").random(random).route(&p), "always", "{random}");
    }
}

#[test]
fn all_zero_weights_is_500() {
    let p = any_host(vec![weighted(prefix("/"), &[(0, Some("a")), (0, Some("b"))])]);
    for random in [0, 1, u64::MAX] {
        let decision = get("h", "/").random(random).eval(&p);
        assert_eq!(decision.entry, Some(0));
        assert_eq!(
            decision.outcome,
            Outcome::Reply {
                status: 500,
                body: None,
                backend: None
            }
        );
    }
}

#[test]
fn no_backends_is_500() {
    let p = any_host(vec![weighted(prefix("/"), &[])]);
    let decision = path_route(&p, "/");
    assert_eq!(decision, "status 500");
}

#[test]
fn invalid_backend_share_is_500_naming_the_backend() {
    let p = any_host(vec![weighted(prefix("/"), &[(1, Some("good")), (3, None)])]);
    let (mut good, mut bad) = (0, 0);
    for random in 0..400 {
        let decision = get("h", "/").random(random).eval(&p);
        match decision.outcome {
            Outcome::Forward { cluster, .. } => {
                assert_eq!(cluster, "good");
                good += 1;
            }
            Outcome::Reply {
                status,
                body,
                backend,
            } => {
                assert_eq!((status, body), (500, None));
                let backend = backend.expect("the invalid backend is named");
                assert_eq!(p.backend(backend).cluster, None);
                assert_eq!(p.backend(backend).weight, 3);
                bad += 1;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((good, bad), (100, 300));
}

#[test]
fn forward_names_the_backend_record() {
    let p = any_host(vec![weighted(prefix("/"), &[(1, Some("a")), (1, Some("b"))])]);
    match get("h", "/").random(1).eval(&p).outcome {
        Outcome::Forward { backend, cluster } => {
            assert_eq!(cluster, "b");
            assert_eq!(p.backend(backend).cluster, Some("b"));
            let service = p.backend(backend).service.expect("service");
            assert_eq!((service.name, service.port), ("b", 8080));
        }
        other => panic!("expected a forward, got {other:?}"),
    }
}

#[test]
fn reply_action_answers_locally() {
    let p = any_host(vec![
        reply(exact("/teapot"), 418, Some("short and stout")),
        reply(prefix("/"), 503, None),
    ]);
    assert_eq!(
        get("h", "/teapot").eval(&p).outcome,
        Outcome::Reply {
            status: 418,
            body: Some("short and stout"),
            backend: None
        }
    );
    assert_eq!(
        get("h", "/x").eval(&p).outcome,
        Outcome::Reply {
            status: 503,
            body: None,
            backend: None
        }
    );
}

// ---------------------------------------------------------------------------------------
// Scratch

#[test]
fn reused_scratch_gives_the_same_decisions() {
    let p = load(&full_program());
    let requests = probe_requests();
    let mut scratch = Scratch::new();
    for _ in 0..3 {
        for request in &requests {
            let with_reused = p.evaluate(&request.view(), &mut scratch);
            assert_eq!(with_reused, request.eval(&p), "{request:?}");
        }
    }
}

#[test]
fn full_program_routes_as_listed() {
    // One end-to-end pass over the sample every other suite uses.
    let p = load(&full_program());
    let cases = [
        (get("foo.example.com", "/exact").method("POST"), "foo-exact"),
        (
            get("foo.example.com", "/api/v1/x").header("x-canary", "true"),
            "foo-api",
        ),
        (get("foo.example.com", "/api/v1/x?version=v2"), "foo-a"),
        (get("foo.example.com", "/api/v1/x?version=v2").random(3), "foo-b"),
        (get("foo.example.com", "/broken").random(1), "status 500"),
        (get("foo.example.com", "/static/x"), "wild-static-anon"),
        (
            get("x.example.com", "/static/x").header("x-env", "a"),
            "wild-static",
        ),
        (get("x.b.example.com", "/only"), "b-only"),
        (get("x.b.example.com", "/static"), NOT_FOUND),
        (
            get("x.example.com", "/u/7/profile?q=hello%20there").header("x-env", "prod"),
            "wild-profile",
        ),
        (
            get("x.example.com", "/u/7/profile?q=hello")
                .header("x-env", "prod")
                .header("x-env", "canary"),
            "wild-profile",
        ),
        (
            get("x.example.com", "/u/7/profile?q=bye").header("x-env", "prod"),
            "default",
        ),
        (get("foo.example.com", "/teapot"), "status 418"),
        (get("anything", "/none"), "status 500"),
        (get("anything", "/zero"), "status 500"),
        (get("anything", "/whatever"), "default"),
        (get("other.test", "/").port(8080), "status 503"),
        (get("other.test", "/").port(9090), NOT_FOUND),
    ];
    for (request, expected) in cases {
        assert_eq!(request.route(&p), expected, "{request:?}");
    }
}
