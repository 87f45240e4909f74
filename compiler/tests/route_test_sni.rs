//! `request.sni`, Switchyard's compatible extension of the route test format
//! (docs/route-tests.md): parsed strictly, defaulting the scheme to https, refused with
//! the file, line and field when it contradicts itself.

use switchyard_compiler::routetest::file::parse_test_file;

const PATH: &str = "t.test.yaml";

fn file(request: &str) -> String {
    format!(
        "target: {{gateway: ns/gw}}\ncases:\n- name: c\n  request: {request}\n  expect: {{status: 404}}\n"
    )
}

#[test]
fn sni_is_optional_and_absent_means_plaintext() {
    let parsed = parse_test_file(PATH, &file("{host: a.example}")).unwrap();
    assert_eq!(parsed.cases[0].request.sni, None);
    assert_eq!(parsed.cases[0].request.scheme, "http");
}

#[test]
fn sni_makes_the_scheme_default_to_https() {
    let parsed = parse_test_file(PATH, &file("{sni: a.example, host: b.example}")).unwrap();
    let request = &parsed.cases[0].request;
    assert_eq!(request.sni.as_deref(), Some("a.example"));
    assert_eq!(request.scheme, "https");
    let explicit = parse_test_file(PATH, &file("{sni: a.example, scheme: https}")).unwrap();
    assert_eq!(explicit.cases[0].request.scheme, "https");
}

#[test]
fn sni_with_scheme_http_is_a_contradiction() {
    let d = parse_test_file(PATH, &file("{sni: a.example, scheme: http}")).unwrap_err();
    assert_eq!(d.location.file, PATH);
    assert_eq!(d.location.line, 4);
    assert!(d.message.contains("scheme is https"), "{d}");
}

#[test]
fn sni_must_be_a_dns_name() {
    for bad in ["10.0.0.1", "'a b.example'", "'a/b'", "''"] {
        let d = parse_test_file(PATH, &file(&format!("{{sni: {bad}}}"))).unwrap_err();
        assert_eq!(d.location.file, PATH);
        assert!(d.message.contains("not a DNS name"), "{bad}: {d}");
        assert_eq!(d.field.as_deref(), Some("cases[0].request.sni"), "{bad}: {d}");
    }
}
