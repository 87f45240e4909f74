//! Reading Istio `corsPolicy`: every StringMatch kind of `allowOrigins`, the deprecated
//! `allowOrigin`, `maxAge`, `unmatchedPreflights`, and the errors Istio's validation
//! gives (`validateCORSPolicy`), each naming the file, line and field.

use switchyard_compiler::diag::{Diagnostic, Severity};
use switchyard_compiler::input::load_texts;
use switchyard_compiler::resources::Resources;
use switchyard_compiler::resources::istio::{Cors, RuleAction, StringMatch};

const FILE: &str = "vs.yaml";

fn vs(cors: &str) -> String {
    format!(
        "apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: shop, namespace: default}}
spec:
  hosts: [shop.example.com]
  http:
  - corsPolicy:
{cors}
    route: [{{destination: {{host: shop}}}}]
"
    )
}

fn read(text: &str) -> (Resources, Vec<Diagnostic>) {
    let documents = load_texts(&[(FILE.to_string(), text.to_string())]).unwrap();
    let (resources, diagnostics) = Resources::from_documents(&documents);
    let errors = diagnostics
        .0
        .into_iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    (resources, errors)
}

fn cors(policy: &str) -> Cors {
    let (resources, errors) = read(&vs(policy));
    assert!(errors.is_empty(), "{errors:#?}");
    let rule = &resources.virtual_services[0].http[0];
    assert!(matches!(rule.action, RuleAction::Route(_)));
    *rule.cors.clone().expect("a CORS policy")
}

fn error(policy: &str) -> Diagnostic {
    let (_, mut errors) = read(&vs(policy));
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let d = errors.remove(0);
    assert_eq!(d.location.file, FILE);
    assert!(d.location.line >= 7, "{d}");
    d
}

#[test]
fn every_string_match_kind_is_an_origin() {
    let policy = cors(
        "      allowOrigins: [{exact: 'https://a.example'}, {prefix: 'https://b'}, {regex: '.*\\.c\\.example'}]",
    );
    assert_eq!(
        policy.allow_origins,
        [
            StringMatch::Exact("https://a.example".into()),
            StringMatch::Prefix("https://b".into()),
            StringMatch::Regex(".*\\.c\\.example".into()),
        ]
    );
    assert!(policy.forward_unmatched_preflights, "FORWARD is the default");
    assert_eq!(policy.max_age_seconds, None);
}

#[test]
fn deprecated_allow_origin_counts_only_without_allow_origins() {
    let legacy = cors("      allowOrigin: ['https://old.example']");
    assert_eq!(
        legacy.allow_origins,
        [StringMatch::Exact("https://old.example".into())]
    );
    let both = cors(
        "      allowOrigin: ['https://old.example']\n      allowOrigins: [{exact: 'https://new.example'}]",
    );
    assert_eq!(
        both.allow_origins,
        [StringMatch::Exact("https://new.example".into())]
    );
}

#[test]
fn max_age_and_unmatched_preflights_are_read() {
    let policy = cors("      maxAge: 2m\n      unmatchedPreflights: IGNORE");
    assert_eq!(policy.max_age_seconds, Some(120));
    assert!(!policy.forward_unmatched_preflights);
    assert!(cors("      unmatchedPreflights: FORWARD").forward_unmatched_preflights);
    assert!(cors("      unmatchedPreflights: UNSPECIFIED").forward_unmatched_preflights);
}

#[test]
fn invalid_policies_are_refused_as_istio_validation_refuses_them() {
    for (policy, field, message) in [
        (
            "      allowOrigins: [{regex: '(unclosed'}]",
            "spec.http[0].corsPolicy.allowOrigins[0].regex",
            "invalid regular expression",
        ),
        (
            "      allowOrigins: [{exact: ''}]",
            "spec.http[0].corsPolicy.allowOrigins[0]",
            "empty match",
        ),
        (
            "      allowOrigins: [{}]",
            "spec.http[0].corsPolicy.allowOrigins[0]",
            "one of exact, prefix, regex",
        ),
        ("      maxAge: 1.5s", "spec.http[0].corsPolicy.maxAge", "seconds"),
        (
            "      unmatchedPreflights: DROP",
            "spec.http[0].corsPolicy.unmatchedPreflights",
            "FORWARD or IGNORE",
        ),
    ] {
        let d = error(policy);
        assert_eq!(d.field.as_deref(), Some(field), "{policy}: {d}");
        assert!(d.message.contains(message), "{policy}: {d}");
    }
}
