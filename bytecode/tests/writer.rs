//! The writer's refusals: IR the format cannot express is rejected before any bytes are
//! produced, with an error naming what is wrong.

mod common;

use common::*;
use switchyard_bytecode::{WriteError, write_program};

#[test]
fn refuses_duplicate_listener_port() {
    let ir = program(vec![listener(80, Vec::new()), listener(80, Vec::new())]);
    assert!(matches!(write_program(&ir), Err(WriteError::Duplicate(what)) if what.contains("80")));
}

#[test]
fn refuses_duplicate_host_pattern() {
    for host in ["foo.example.com", "*.example.com", "*"] {
        let ir = on_port(vec![
            vhost(host, Vec::new()),
            vhost(&host.to_uppercase(), Vec::new()),
        ]);
        assert!(
            matches!(write_program(&ir), Err(WriteError::Duplicate(_))),
            "{host}"
        );
    }
}

#[test]
fn refuses_bad_header_name() {
    for name in ["X-Canary", "", "x canary", "x:y", "é"] {
        let ir = on_port(vec![vhost(
            "*",
            vec![to(prefix("/"), "a").with(header_present(name))],
        )]);
        assert_eq!(
            write_program(&ir),
            Err(WriteError::BadHeaderName(name.to_string())),
            "{name:?}"
        );
    }
}

#[test]
fn refuses_bad_routing_header() {
    for name in ["", ":authority", "x cluster"] {
        let mut ir = on_port(Vec::new());
        ir.routing_header = name.to_string();
        assert_eq!(
            write_program(&ir),
            Err(WriteError::BadHeaderName(name.to_string())),
            "{name:?}"
        );
    }
    // Uppercase is lowercased rather than refused.
    let mut ir = on_port(Vec::new());
    ir.routing_header = "X-Cluster".to_string();
    assert_eq!(load(&ir).routing_header(), "x-cluster");
}

#[test]
fn refuses_bad_regex() {
    for (pattern, path) in [("(", true), ("[a-", false), ("a{2,1}", true)] {
        let entry = if path {
            to(regex(pattern), "a")
        } else {
            to(prefix("/"), "a").with(query_regex("q", pattern))
        };
        let ir = on_port(vec![vhost("*", vec![entry])]);
        assert!(
            matches!(write_program(&ir), Err(WriteError::BadRegex { pattern: p, .. }) if p == pattern),
            "{pattern}"
        );
    }
}

#[test]
fn refuses_reply_status_outside_100_to_599() {
    for status in [0, 99, 600, u16::MAX] {
        let ir = on_port(vec![vhost("*", vec![reply(prefix("/"), status, None)])]);
        assert_eq!(write_program(&ir), Err(WriteError::BadStatus(status)));
    }
    for status in [100, 599] {
        assert!(write_program(&on_port(vec![vhost("*", vec![reply(prefix("/"), status, None)])])).is_ok());
    }
}

#[test]
fn refuses_total_weight_over_u32() {
    let ir = on_port(vec![vhost(
        "*",
        vec![weighted(prefix("/"), &[(u32::MAX, Some("a")), (1, Some("b"))])],
    )]);
    assert!(matches!(write_program(&ir), Err(WriteError::TooLarge(_))));
}

#[test]
fn stores_a_repeated_regex_once() {
    // Fifty entries with one regex against fifty with fifty regexes of the same length:
    // the second must carry at least the forty-nine extra pattern texts.
    let table = |distinct: bool| {
        let entries = (0..50u16)
            .map(|i| {
                to(
                    regex(&format!("/a{:02}/[0-9]+", if distinct { i } else { 0 })),
                    "c",
                )
                .rule(i, 0)
            })
            .collect();
        write_program(&on_port(vec![vhost("*", entries)])).unwrap().len()
    };
    let anchored = "^(?:/a00/[0-9]+)$".len();
    assert!(
        table(true) >= table(false) + 49 * anchored,
        "{} vs {}",
        table(true),
        table(false)
    );
}
