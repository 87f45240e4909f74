//! Request traces: the observer sees the same evaluation the decision came from.

mod common;

use common::*;
use switchyard_bytecode::{Scratch, Trace};

#[test]
fn trace_names_the_first_failing_predicate_of_each_candidate_passed_over() {
    let p = load(&on_port(vec![vhost(
        "*",
        vec![
            to(prefix("/a"), "one")
                .with(method("POST"))
                .with(header("x-user", "b")),
            to(prefix("/a"), "two").with(header("x-user", "b")),
            to(prefix("/a"), "three"),
        ],
    )]));
    let request = get("example.com", "/a/x").header("x-user", "a");
    let mut trace = Trace::default();
    let decision = p.evaluate_observed(&request.view(), &mut Scratch::new(), &mut trace);
    assert_eq!(decision.entry, Some(2));
    assert_eq!(trace.listener, Some(Some(0)));
    assert_eq!(trace.vhosts, vec![0]);
    let failed: Vec<(u32, String)> = trace
        .rejections
        .iter()
        .map(|r| (r.entry, p.predicate_text(r.predicate)))
        .collect();
    assert_eq!(
        failed,
        vec![
            (0, "method = POST".to_string()),
            (1, "header x-user = \"b\"".to_string())
        ]
    );
    let subject = p.predicate_subject(trace.rejections[1].predicate, &request.view());
    assert_eq!(subject.as_deref(), Some("a"));
}

#[test]
fn trace_records_a_port_without_listener() {
    let p = load(&on_port(vec![vhost("*", vec![to(prefix("/"), "root")])]));
    let mut trace = Trace::default();
    let request = get("example.com", "/").port(1);
    p.evaluate_observed(&request.view(), &mut Scratch::new(), &mut trace);
    assert_eq!(trace.listener, Some(None));
    assert!(trace.vhosts.is_empty());
}

#[test]
fn traced_decisions_equal_plain_decisions() {
    for ir in sample_programs() {
        let p = load(&ir);
        for request in probe_requests() {
            let mut trace = Trace::default();
            let traced = p.evaluate_observed(&request.view(), &mut Scratch::new(), &mut trace);
            assert_eq!(traced, request.eval(&p));
        }
    }
}
