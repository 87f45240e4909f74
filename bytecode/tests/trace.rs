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

#[test]
fn trace_line_is_one_printable_line_naming_the_winner_and_what_failed() {
    let p = load(&on_port(vec![vhost(
        "*",
        vec![
            to(prefix("/a"), "one").with(header("x-user", "b\u{e9}")),
            to(prefix("/a"), "two"),
        ],
    )]));
    let request = get("example.com", "/a").header("x-user", "a");
    let mut trace = Trace::default();
    let decision = p.evaluate_observed(&request.view(), &mut Scratch::new(), &mut trace);
    let line = p.trace_line(&trace, &decision);
    assert!(
        line.starts_with("listener=80 vhost=0:* passed=#0[header x-user = "),
        "{line}"
    );
    assert!(line.contains(" won=#1["), "{line}");
    assert!(line.ends_with(" cluster=two"), "{line}");
    assert!(line.bytes().all(|b| b == b' ' || b.is_ascii_graphic()), "{line}");
}

#[test]
fn trace_line_is_bounded() {
    let entries = (0..400)
        .map(|i| to(prefix("/a"), "x").with(header("x-some-long-header-name", &format!("value-{i}"))))
        .collect();
    let p = load(&on_port(vec![vhost("*", entries)]));
    let request = get("example.com", "/a");
    let mut trace = Trace::default();
    let decision = p.evaluate_observed(&request.view(), &mut Scratch::new(), &mut trace);
    let line = p.trace_line(&trace, &decision);
    assert_eq!(line.len(), switchyard_bytecode::TRACE_LINE_MAX);
    assert!(line.ends_with("..."));
}
