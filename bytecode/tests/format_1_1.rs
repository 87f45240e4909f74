//! Formats 1.1 and 1.2: what they add (1.1: HTTPS listener names for misdirected
//! requests, Envoy CORS policies with string-matcher origins, backends whose cluster does
//! not exist; 1.2: a backend whose op run ends in a redirect), how the writer stamps
//! versions, what the loader refuses, and how the evaluator uses them.

mod common;

use common::*;
use switchyard_bytecode::checksum::crc32;
use switchyard_bytecode::format::{
    HEADER_LEN, NONE, SECTION_ENTRY_LEN, VERSION_MINOR, cors_flag, op, record_words, section,
};
use switchyard_bytecode::ir::{
    ActionIr, CorsIr, EnvoyCorsIr, FilterIr, HostPattern, OriginMatchIr, PortDerivation, ProgramIr,
    RedirectIr,
};
use switchyard_bytecode::{LoadError, Outcome, Program, WriteError, write_program};

// ---------------------------------------------------------------------------------------
// Byte-level helpers (as in tests/loader.rs)

fn rd(bytes: &[u8], offset: usize) -> u32 {
    u32::from_le_bytes(bytes[offset..offset + 4].try_into().unwrap())
}

fn wr(bytes: &mut [u8], offset: usize, value: u32) {
    bytes[offset..offset + 4].copy_from_slice(&value.to_le_bytes());
}

fn section_ids(bytes: &[u8]) -> Vec<u32> {
    (0..rd(bytes, 24) as usize)
        .map(|i| rd(bytes, HEADER_LEN + i * SECTION_ENTRY_LEN))
        .collect()
}

fn sec(bytes: &[u8], id: u32) -> (usize, usize) {
    let count = rd(bytes, 24) as usize;
    let base = (0..count)
        .map(|i| HEADER_LEN + i * SECTION_ENTRY_LEN)
        .find(|&base| rd(bytes, base) == id)
        .expect("section present");
    (rd(bytes, base + 4) as usize, rd(bytes, base + 8) as usize)
}

fn records(bytes: &[u8], id: u32) -> u32 {
    (sec(bytes, id).1 / (record_words(id) * 4)) as u32
}

fn at(bytes: &[u8], id: u32, index: u32, w: usize) -> usize {
    assert!(index < records(bytes, id), "record {index} of section {id}");
    sec(bytes, id).0 + (index as usize * record_words(id) + w) * 4
}

fn field(bytes: &[u8], id: u32, index: u32, w: usize) -> u32 {
    rd(bytes, at(bytes, id, index, w))
}

fn put(bytes: &mut [u8], id: u32, index: u32, w: usize, value: u32) {
    let offset = at(bytes, id, index, w);
    wr(bytes, offset, value);
}

fn find(bytes: &[u8], id: u32, pick: impl Fn(u32) -> bool) -> u32 {
    (0..records(bytes, id)).find(|&i| pick(i)).expect("a record")
}

fn load_fixed(mut bytes: Vec<u8>) -> Result<Program, LoadError> {
    let len = bytes.len() as u32;
    wr(&mut bytes, 16, len);
    let crc = crc32(&bytes[HEADER_LEN..]);
    wr(&mut bytes, 20, crc);
    Program::from_bytes(&bytes)
}

fn refusal(ir: &ProgramIr, edit: impl FnOnce(&mut Vec<u8>)) -> LoadError {
    let mut bytes = bytes_of(ir);
    Program::from_bytes(&bytes).expect("the unedited program loads");
    edit(&mut bytes);
    load_fixed(bytes).expect_err("the edited program must be refused")
}

fn bad(section: u32, index: u32) -> LoadError {
    LoadError::BadRecord { section, index }
}

fn minor(bytes: &[u8]) -> u16 {
    u16::from_le_bytes([bytes[10], bytes[11]])
}

// ---------------------------------------------------------------------------------------
// Versions

#[test]
fn writer_stamps_1_0_when_nothing_needs_1_1() {
    let bytes = bytes_of(&full_program());
    assert_eq!(minor(&bytes), 0);
    assert_eq!(section_ids(&bytes), section::ALL.to_vec());
}

#[test]
fn writer_stamps_1_1_and_adds_its_sections_when_a_program_needs_them() {
    let bytes = bytes_of(&format_1_1_program());
    assert_eq!(minor(&bytes), 1);
    let mut expected = section::ALL.to_vec();
    expected.extend(section::SINCE_1_1);
    assert_eq!(section_ids(&bytes), expected);
    Program::from_bytes(&bytes).expect("loads");
}

#[test]
fn each_1_1_record_kind_alone_makes_a_1_1_program() {
    let mut tls = on_port(vec![vhost("*", vec![to(prefix("/"), "a")])]);
    tls.listeners[0].sni_hosts = vec![HostPattern::parse("a.example"), HostPattern::Any];
    let mut cors = to(prefix("/"), "a");
    cors.filters.push(FilterIr::Cors(CorsIr {
        envoy: Some(EnvoyCorsIr::default()),
        ..CorsIr::default()
    }));
    let mut missing = to(prefix("/"), "a");
    if let ActionIr::Forward(backends) = &mut missing.action {
        backends[0].filters.push(FilterIr::NoCluster { status: 503 });
    }
    for ir in [
        tls,
        on_port(vec![vhost("*", vec![cors])]),
        on_port(vec![vhost("*", vec![missing])]),
    ] {
        assert_eq!(minor(&bytes_of(&ir)), 1, "{ir:?}");
    }
}

#[test]
fn a_1_0_program_may_not_carry_1_1_sections() {
    let mut bytes = bytes_of(&format_1_1_program());
    bytes[10..12].copy_from_slice(&0u16.to_le_bytes());
    assert_eq!(load_fixed(bytes).unwrap_err(), LoadError::BadSectionTable);
}

#[test]
fn a_1_1_program_must_carry_every_1_1_section() {
    let mut bytes = bytes_of(&full_program());
    bytes[10..12].copy_from_slice(&1u16.to_le_bytes());
    assert_eq!(
        load_fixed(bytes).unwrap_err(),
        LoadError::MissingSection(section::CORS_ORIGINS)
    );
}

// ---------------------------------------------------------------------------------------
// Loader refusals

#[test]
fn refuses_unknown_origin_matcher_kind() {
    let error = refusal(&format_1_1_program(), |b| put(b, section::CORS_ORIGINS, 0, 0, 4));
    assert_eq!(error, bad(section::CORS_ORIGINS, 0));
}

#[test]
fn refuses_origin_regex_out_of_range() {
    let error = refusal(&format_1_1_program(), |b| {
        let regex = find(b, section::CORS_ORIGINS, |i| {
            field(b, section::CORS_ORIGINS, i, 0) == 3
        });
        put(b, section::CORS_ORIGINS, regex, 1, 1000);
    });
    assert!(
        matches!(
            error,
            LoadError::BadRecord {
                section: section::CORS_ORIGINS,
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn refuses_forwarding_unmatched_preflights_without_envoy_semantics() {
    let error = refusal(&format_1_1_program(), |b| {
        // Gateway API semantics with an empty origin range, but the Envoy-only flag kept.
        let flags = field(b, section::CORS, 0, 0);
        put(b, section::CORS, 0, 0, flags & !cors_flag::ENVOY);
        put(b, section::CORS, 0, 2, 0);
    });
    assert_eq!(error, bad(section::CORS, 0));
}

#[test]
fn refuses_unset_max_age_in_a_gateway_api_policy() {
    let mut entry = to(prefix("/"), "a");
    entry.filters.push(FilterIr::Cors(CorsIr::default()));
    let error = refusal(&on_port(vec![vhost("*", vec![entry])]), |b| {
        put(b, section::CORS, 0, 6, NONE)
    });
    assert_eq!(error, bad(section::CORS, 0));
}

#[test]
fn refuses_tls_names_for_a_port_without_listener() {
    let error = refusal(&format_1_1_program(), |b| {
        put(b, section::TLS_LISTENERS, 0, 0, 444)
    });
    assert_eq!(error, bad(section::TLS_LISTENERS, 0));
}

#[test]
fn refuses_unknown_tls_listener_flags_and_ranges_past_the_names() {
    let error = refusal(&format_1_1_program(), |b| put(b, section::TLS_LISTENERS, 0, 3, 2));
    assert_eq!(error, bad(section::TLS_LISTENERS, 0));
    let error = refusal(&format_1_1_program(), |b| put(b, section::TLS_LISTENERS, 0, 1, 1));
    assert_eq!(error, bad(section::TLS_LISTENERS, 0));
}

#[test]
fn refuses_tls_names_that_are_not_lowercase() {
    let ir = format_1_1_program();
    let mut bytes = bytes_of(&ir);
    let key = find(&bytes, section::TLS_NAMES, |i| {
        field(&bytes, section::TLS_NAMES, i, 0) != NONE
    });
    // Uppercase the first byte of that name where the string blob holds it.
    let id = field(&bytes, section::TLS_NAMES, key, 0) as usize;
    let (offset, _) = sec(&bytes, section::STRINGS);
    let count = rd(&bytes, offset) as usize;
    let start = offset + 4 + count * 8 + rd(&bytes, offset + 4 + id * 8) as usize;
    let first = bytes[start..].iter().position(u8::is_ascii_lowercase).unwrap();
    bytes[start + first] = bytes[start + first].to_ascii_uppercase();
    assert_eq!(load_fixed(bytes).unwrap_err(), bad(section::TLS_NAMES, key));
}

#[test]
fn refuses_a_missing_cluster_in_a_rule_action() {
    let error = refusal(&format_1_1_program(), |b| {
        let cors = find(b, section::OPS, |i| {
            field(b, section::OPS, i, 0) == u32::from(op::CORS)
        });
        put(b, section::OPS, cors, 0, u32::from(op::NO_CLUSTER));
        put(b, section::OPS, cors, 1, 503);
    });
    assert!(
        matches!(
            error,
            LoadError::BadRecord {
                section: section::ACTIONS,
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn refuses_a_missing_cluster_status_outside_100_to_599() {
    let error = refusal(&format_1_1_program(), |b| {
        let missing = find(b, section::OPS, |i| {
            field(b, section::OPS, i, 0) == u32::from(op::NO_CLUSTER)
        });
        put(b, section::OPS, missing, 1, 99);
    });
    assert!(
        matches!(
            error,
            LoadError::BadRecord {
                section: section::OPS,
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn writer_refuses_a_missing_cluster_among_rule_filters() {
    let mut entry = to(prefix("/"), "a");
    entry.filters.push(FilterIr::NoCluster { status: 503 });
    assert!(matches!(
        write_program(&on_port(vec![vhost("*", vec![entry])])),
        Err(WriteError::Invalid(_))
    ));
}

// ---------------------------------------------------------------------------------------
// Misdirected requests (421)

fn https(host: &str, sni: &str) -> Req {
    get(host, "/").port(443).sni(sni)
}

#[test]
fn sni_and_host_on_the_same_listener_route_normally() {
    let program = load(&format_1_1_program());
    assert_eq!(https("a.example.com", "a.example.com").route(&program), "a");
    assert_eq!(https("b.example.com", "c.example.com").route(&program), "wild");
    assert_eq!(https("x.other", "y.other").route(&program), "any");
    assert_eq!(https("a.example.com:443", "a.example.com").route(&program), "a");
}

#[test]
fn host_of_another_listener_than_the_sni_selected_is_misdirected() {
    let program = load(&format_1_1_program());
    // The SNI selected the wildcard listener; the exact listener owns the Host.
    assert_eq!(
        https("a.example.com", "b.example.com").route(&program),
        "status 421"
    );
    // The SNI selected the exact listener; the Host belongs to the wildcard one.
    assert_eq!(
        https("b.example.com", "a.example.com").route(&program),
        "status 421"
    );
    // Names no hostname matches belong to the listener without hostname.
    assert_eq!(https("x.other", "a.example.com").route(&program), "status 421");
    assert_eq!(https("a.example.com", "x.other").route(&program), "status 421");
}

#[test]
fn a_host_no_https_listener_matches_is_routed_and_gets_404() {
    let mut ir = on_port(vec![
        vhost("a.example.com", vec![to(prefix("/"), "a")]),
        vhost("b.example.com", vec![to(prefix("/"), "b")]),
    ]);
    ir.listeners[0].port = 443;
    ir.listeners[0].sni_hosts = vec![
        HostPattern::parse("a.example.com"),
        HostPattern::parse("b.example.com"),
    ];
    let program = load(&ir);
    assert_eq!(
        https("c.example.com", "a.example.com").route(&program),
        "status 404"
    );
    assert_eq!(
        https("b.example.com", "a.example.com").route(&program),
        "status 421"
    );
}

#[test]
fn a_wildcard_listener_does_not_own_its_bare_domain() {
    let mut ir = on_port(vec![vhost("*", vec![to(prefix("/"), "any")])]);
    ir.listeners[0].port = 443;
    ir.listeners[0].sni_hosts = vec![HostPattern::parse("*.example.com"), HostPattern::Any];
    let program = load(&ir);
    assert_eq!(
        https("example.com", "x.example.com").route(&program),
        "status 421"
    );
    assert_eq!(https("example.com", "other.test").route(&program), "any");
    assert_eq!(https("a.b.example.com", "x.example.com").route(&program), "any");
}

#[test]
fn sni_compares_without_case_and_trailing_dot() {
    let program = load(&format_1_1_program());
    assert_eq!(https("a.example.com", "A.Example.COM.").route(&program), "a");
}

#[test]
fn plaintext_requests_and_ports_without_https_names_are_not_checked() {
    let program = load(&format_1_1_program());
    let mut plain = get("a.example.com", "/").port(443);
    assert_eq!(plain.route(&program), "a");
    plain.sni = Some(String::new());
    assert_eq!(plain.route(&program), "a");
    // Port 80 has no HTTPS listener names.
    assert_eq!(get("a.example.com", "/").sni("x.other").route(&program), "plain");
    assert!(program.features().sni);
    assert!(!load(&full_program()).features().sni);
}

// ---------------------------------------------------------------------------------------
// Backends whose cluster does not exist

#[test]
fn a_share_whose_cluster_does_not_exist_is_answered_503() {
    let program = load(&format_1_1_program());
    let first = get("x", "/subset").random(0);
    let second = get("x", "/subset").random(1);
    assert_eq!(first.route(&program), "outbound|80|v1|svc");
    let decision = second.eval(&program);
    assert!(matches!(
        decision.outcome,
        Outcome::Reply {
            status: 503,
            backend: Some(_),
            ..
        }
    ));
    let plan = program.plan(&decision, &second.view());
    assert_eq!(plan.cluster, None);
    assert_eq!(plan.reply.map(|r| r.status), Some(503));
}

#[test]
fn an_unresolved_backend_with_a_missing_cluster_status_answers_that_status_not_500() {
    let mut entry = to(prefix("/"), "unused");
    let ActionIr::Forward(backends) = &mut entry.action else {
        unreachable!()
    };
    backends[0].cluster = None;
    backends[0].filters.push(FilterIr::NoCluster { status: 503 });
    let program = load(&on_port(vec![vhost("*", vec![entry])]));
    let req = get("x", "/");
    let decision = req.eval(&program);
    assert!(
        matches!(
            decision.outcome,
            Outcome::Reply {
                status: 503,
                backend: Some(_),
                ..
            }
        ),
        "{decision:?}"
    );
    assert_eq!(
        program.plan(&decision, &req.view()).reply.map(|r| r.status),
        Some(503)
    );
}

#[test]
fn a_mirror_to_a_cluster_that_does_not_exist_is_dropped() {
    let mut gone = to(prefix("/"), "gone");
    let ActionIr::Forward(mut backends) = gone.action.clone() else {
        unreachable!()
    };
    backends[0].filters.push(FilterIr::NoCluster { status: 503 });
    gone.action = ActionIr::Forward(vec![]);
    let mut entry = to(prefix("/"), "main");
    entry.filters.push(FilterIr::Mirror {
        backend: backends.remove(0),
        per_million: 1_000_000,
    });
    let program = load(&on_port(vec![vhost("*", vec![entry])]));
    let req = get("x", "/");
    let plan = program.plan(&req.eval(&program), &req.view());
    assert_eq!(plan.cluster, Some("main"));
    assert!(plan.mirrors.is_empty());
}

// ---------------------------------------------------------------------------------------
// Envoy CORS

fn envoy_cors(origins: Vec<OriginMatchIr>, forward: bool, max_age: bool) -> Program {
    let mut entry = to(prefix("/"), "app");
    entry.filters.push(FilterIr::Cors(CorsIr {
        allow_methods: vec!["GET".to_string(), "PUT".to_string()],
        allow_headers: vec!["x-a".to_string(), "x-b".to_string()],
        expose_headers: vec!["x-c".to_string()],
        max_age_seconds: 30,
        allow_credentials: false,
        envoy: Some(EnvoyCorsIr {
            origins,
            forward_unmatched_preflights: forward,
            send_max_age: max_age,
        }),
        ..CorsIr::default()
    }));
    load(&on_port(vec![vhost("*", vec![entry])]))
}

fn preflight(origin: &str) -> Req {
    get("x", "/")
        .method("OPTIONS")
        .header("origin", origin)
        .header("access-control-request-method", "PUT")
}

fn reply_headers(program: &Program, req: &Req) -> Option<Vec<(&'static str, String)>> {
    let plan = program.plan(&req.eval(program), &req.view());
    plan.reply.map(|r| {
        assert_eq!(r.status, 200);
        r.headers
    })
}

fn exact(text: &str) -> OriginMatchIr {
    OriginMatchIr::Exact(text.to_string())
}

#[test]
fn envoy_preflight_echoes_the_origin_and_sends_the_policy_as_written() {
    let program = envoy_cors(vec![exact("https://a.example")], false, true);
    let headers = reply_headers(&program, &preflight("https://a.example")).expect("answered");
    assert_eq!(
        headers,
        vec![
            ("access-control-allow-origin", "https://a.example".to_string()),
            ("access-control-allow-methods", "GET,PUT".to_string()),
            ("access-control-allow-headers", "x-a,x-b".to_string()),
            ("access-control-max-age", "30".to_string()),
            ("access-control-expose-headers", "x-c".to_string()),
        ]
    );
}

#[test]
fn envoy_max_age_is_sent_only_when_set() {
    let program = envoy_cors(vec![exact("https://a.example")], false, false);
    let headers = reply_headers(&program, &preflight("https://a.example")).expect("answered");
    assert!(headers.iter().all(|(n, _)| *n != "access-control-max-age"));
}

#[test]
fn envoy_origin_matchers_are_exact_prefix_and_full_regex_and_case_sensitive() {
    let program = envoy_cors(
        vec![
            exact("https://exact.example"),
            OriginMatchIr::Prefix("https://pre".to_string()),
            OriginMatchIr::Regex(r"https://[a-z]+\.re\.example".to_string()),
        ],
        false,
        true,
    );
    for (origin, allowed) in [
        ("https://exact.example", true),
        ("https://EXACT.example", false),
        ("https://exact.example:443", false),
        ("https://prefix.anything", true),
        ("http://prefix.anything", false),
        ("https://abc.re.example", true),
        ("https://abc.re.example.evil", false),
        ("https://ABC.re.example", false),
    ] {
        let headers = reply_headers(&program, &preflight(origin)).expect("answered (IGNORE)");
        assert_eq!(!headers.is_empty(), allowed, "{origin}");
    }
}

#[test]
fn envoy_exact_star_allows_every_origin() {
    let program = envoy_cors(vec![exact("*")], false, true);
    let headers = reply_headers(&program, &preflight("https://whatever.example")).unwrap();
    assert_eq!(headers[0].1, "https://whatever.example");
}

#[test]
fn envoy_unmatched_preflight_is_forwarded_with_forward_and_answered_bare_with_ignore() {
    let forwarding = envoy_cors(vec![exact("https://a.example")], true, true);
    let req = preflight("https://b.example");
    let plan = forwarding.plan(&req.eval(&forwarding), &req.view());
    assert_eq!(plan.cluster, Some("app"));
    assert!(plan.reply.is_none());
    assert!(plan.response_headers.is_empty());

    let ignoring = envoy_cors(vec![exact("https://a.example")], false, true);
    assert_eq!(reply_headers(&ignoring, &req), Some(Vec::new()));
}

#[test]
fn envoy_actual_request_gets_the_origin_echoed_and_exposed_headers() {
    let program = envoy_cors(vec![exact("https://a.example")], true, true);
    let req = get("x", "/").header("origin", "https://a.example");
    let plan = program.plan(&req.eval(&program), &req.view());
    assert_eq!(plan.cluster, Some("app"));
    let set: Vec<(&str, &str)> = plan
        .response_headers
        .iter()
        .map(|op| (op.name, op.value.as_ref()))
        .collect();
    assert_eq!(
        set,
        vec![
            ("access-control-allow-origin", "https://a.example"),
            ("access-control-expose-headers", "x-c"),
        ]
    );
    let other = get("x", "/").header("origin", "https://b.example");
    assert!(
        program
            .plan(&other.eval(&program), &other.view())
            .response_headers
            .is_empty()
    );
}

#[test]
fn envoy_options_without_request_method_or_origin_is_no_preflight() {
    let program = envoy_cors(vec![exact("https://a.example")], false, true);
    let no_method = get("x", "/")
        .method("OPTIONS")
        .header("origin", "https://a.example");
    assert_eq!(
        program.plan(&no_method.eval(&program), &no_method.view()).cluster,
        Some("app")
    );
    let empty_origin = preflight("");
    assert_eq!(
        program
            .plan(&empty_origin.eval(&program), &empty_origin.view())
            .cluster,
        Some("app")
    );
}

#[test]
fn listing_names_https_listeners_envoy_cors_and_missing_clusters() {
    let listing = load(&format_1_1_program()).listing();
    assert!(
        listing.contains("https listeners *.example.com a.example.com *"),
        "{listing}"
    );
    assert!(listing.contains("(envoy)"), "{listing}");
    assert!(
        listing.contains("outbound|80|v9|svc*1 [no such cluster: 503]"),
        "{listing}"
    );
}

// ---------------------------------------------------------------------------------------
// Format 1.2: a backend that redirects

#[test]
fn writer_stamps_1_2_for_a_redirecting_backend() {
    let bytes = bytes_of(&format_1_2_program());
    assert_eq!(minor(&bytes), 2);
    assert_eq!(VERSION_MINOR, 2);
    // 1.2 adds no section: those of 1.1 are there, as in every program past 1.0.
    let mut expected = section::ALL.to_vec();
    expected.extend(section::SINCE_1_1);
    assert_eq!(section_ids(&bytes), expected);
}

#[test]
fn the_redirecting_backend_answers_its_share_with_its_own_path() {
    let program = load(&format_1_2_program());
    let forwarded = get("x", "/old?q").random(0);
    assert_eq!(forwarded.route(&program), "a");
    let redirected = get("x", "/old?q").random(1);
    let decision = redirected.eval(&program);
    assert!(
        matches!(
            decision.outcome,
            Outcome::Redirect {
                status: 308,
                backend: Some(_)
            }
        ),
        "{decision:?}"
    );
    let plan = program.plan(&decision, &redirected.view());
    let reply = plan.reply.expect("a redirect");
    assert_eq!(
        reply.headers,
        vec![("location", "http://moved.example/new?q".to_string())]
    );
    assert_eq!(plan.cluster, None);
}

#[test]
fn refuses_a_backend_redirect_that_is_not_the_last_op() {
    let error = refusal(&format_1_2_program(), |b| {
        let redirecting = find(b, section::BACKENDS, |i| field(b, section::BACKENDS, i, 4) == 2);
        // The run is [SET_PATH, REDIRECT]: start one op later and take two ops, so the
        // REDIRECT comes first and another op follows it.
        let start = field(b, section::BACKENDS, redirecting, 3);
        put(b, section::BACKENDS, redirecting, 3, start + 1);
    });
    assert!(
        matches!(
            error,
            LoadError::BadRecord {
                section: section::BACKENDS,
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn refuses_a_forward_or_reply_ending_a_backend_run() {
    for terminal in [op::FORWARD, op::REPLY] {
        let error = refusal(&format_1_2_program(), |b| {
            let redirect = find(b, section::OPS, |i| {
                field(b, section::OPS, i, 0) & 0xFF == u32::from(op::REDIRECT)
            });
            put(b, section::OPS, redirect, 0, u32::from(terminal));
        });
        assert!(
            matches!(error, LoadError::BadRecord { .. }),
            "{terminal}: {error:?}"
        );
    }
}

#[test]
fn writer_refuses_a_redirect_on_a_mirror_backend() {
    let mut entry = to(prefix("/"), "a");
    let ActionIr::Forward(backends) = entry.action.clone() else {
        unreachable!()
    };
    let mut mirror = backends[0].clone();
    mirror.redirect = Some(Box::new(RedirectIr {
        status: 302,
        scheme: None,
        host: None,
        port: None,
        derive: PortDerivation::GatewayApi,
    }));
    entry.filters.push(FilterIr::Mirror {
        backend: mirror,
        per_million: 1_000_000,
    });
    let error = write_program(&on_port(vec![vhost("*", vec![entry])])).unwrap_err();
    assert!(matches!(error, WriteError::Invalid(_)), "{error:?}");
}

// ---------------------------------------------------------------------------------------
// Format 1.2: unknown hosts passed to the proxy (a sidecar's passthrough)

fn passing_program() -> ProgramIr {
    let mut ir = program(vec![listener(
        PORT,
        vec![vhost("known.example", vec![to(prefix("/known"), "known")])],
    )]);
    ir.pass_unknown_hosts = true;
    ir
}

#[test]
fn writer_stamps_1_2_and_a_meta_flags_word_for_a_program_that_passes_unknown_hosts() {
    let passing = bytes_of(&passing_program());
    assert_eq!(minor(&passing), 2);
    let (_, meta_len) = sec(&passing, section::META);
    let mut plain = passing_program();
    plain.pass_unknown_hosts = false;
    let plain = bytes_of(&plain);
    assert_eq!(minor(&plain), 0);
    // The same META plus one flags word.
    assert_eq!(meta_len, sec(&plain, section::META).1 + 4);
    let (offset, len) = sec(&passing, section::META);
    assert_eq!(rd(&passing, offset + len - 4), 1);
}

#[test]
fn an_unknown_host_or_port_is_passed_and_a_known_host_that_misses_is_404() {
    let program = load(&passing_program());
    assert!(program.passes_unknown_hosts());
    assert_eq!(
        outcome(&get("elsewhere.example", "/known").eval(&program)),
        "pass"
    );
    let mut other_port = get("known.example", "/known");
    other_port.port = PORT + 1;
    assert_eq!(outcome(&other_port.eval(&program)), "pass");
    assert_eq!(
        outcome(&get("known.example", "/other").eval(&program)),
        "status 404"
    );
    assert_eq!(outcome(&get("known.example", "/known").eval(&program)), "known");
    let mut gateway = passing_program();
    gateway.pass_unknown_hosts = false;
    let gateway = load(&gateway);
    assert_eq!(
        outcome(&get("elsewhere.example", "/known").eval(&gateway)),
        "status 404"
    );
}

#[test]
fn refuses_unknown_meta_flags_and_a_missing_flags_word() {
    let error = refusal(&passing_program(), |b| {
        let (offset, len) = sec(b, section::META);
        wr(b, offset + len - 4, 2);
    });
    assert!(matches!(error, LoadError::BadSection(section::META)), "{error:?}");
    // A 1.1 program is read without a flags word: stamping it 1.2 leaves META short.
    let error = refusal(&format_1_1_program(), |b| b[10] = 2);
    assert!(matches!(error, LoadError::BadSection(section::META)), "{error:?}");
}
