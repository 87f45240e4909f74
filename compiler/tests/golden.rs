//! Golden programs: the bytes the compiler writes for the quick-start example, committed
//! with their listing. A change to the bytecode layout shows up here first; it must come
//! with a deliberate format version bump (docs/bytecode.md, "Versioning"). A change in
//! how the writer lays out the same records (sharing identical ones, say), which every
//! loader of the version accepts, only needs the goldens regenerated.
//!
//! Regenerate after such a change with:
//!     SWITCHYARD_BLESS=1 cargo test -p switchyard-compiler --test golden

use std::path::{Path, PathBuf};

use switchyard_bytecode::Program;
use switchyard_bytecode::format::{VERSION_MAJOR, VERSION_MINOR};
use switchyard_compiler::compile::{CompileOptions, Target, compile};
use switchyard_compiler::input::load_inputs;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn check_golden(name: &str, actual: &[u8]) {
    let path = root().join("compiler/tests/golden").join(name);
    if std::env::var_os("SWITCHYARD_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        expected == actual,
        "{} differs from what the compiler writes now; if the format changed on purpose, bump the \
         version and regenerate (SWITCHYARD_BLESS=1)",
        path.display()
    );
}

#[test]
fn quickstart_program_matches_the_committed_golden_bytes_and_listing() {
    let manifests = root()
        .join("examples/quickstart/manifests.yaml")
        .to_string_lossy()
        .into_owned();
    let documents = load_inputs(&[manifests]).unwrap();
    let bytes = compile(&documents, &CompileOptions::default()).unwrap().bytes;
    let program = Program::from_bytes(&bytes).unwrap();
    check_golden("quickstart.swb", &bytes);
    check_golden("quickstart.listing.txt", program.listing().as_bytes());
}

/// A format 1.1 program: the Gateway of the misdirected-request conformance case, whose
/// four HTTPS listeners share port 443 (TLS listener names).
#[test]
fn misdirected_requests_program_matches_the_committed_golden_bytes_and_listing() {
    let inputs: Vec<String> = [
        "corpus/gateway-api/base/manifests.yaml",
        "corpus/gateway-api/extended/httproute-https-listener-detect-misdirected-requests/manifests.yaml",
    ]
    .iter()
    .map(|p| root().join(p).to_string_lossy().into_owned())
    .collect();
    let documents = load_inputs(&inputs).unwrap();
    let options = CompileOptions {
        target: Target::Gateway(Some(
            "gateway-conformance-infra/same-namespace-with-https-listener".to_string(),
        )),
        ..CompileOptions::default()
    };
    let bytes = compile(&documents, &options).unwrap().bytes;
    let program = Program::from_bytes(&bytes).unwrap();
    check_golden("misdirected.swb", &bytes);
    check_golden("misdirected.listing.txt", program.listing().as_bytes());
}

/// A format 1.2 program: the backend RequestRedirect conformance case, whose backends
/// answer with redirects.
#[test]
fn backend_redirect_program_matches_the_committed_golden_bytes_and_listing() {
    let inputs: Vec<String> = [
        "corpus/gateway-api/base/manifests.yaml",
        "corpus/gateway-api/extended/httproute-backend-request-redirect/manifests.yaml",
    ]
    .iter()
    .map(|p| root().join(p).to_string_lossy().into_owned())
    .collect();
    let documents = load_inputs(&inputs).unwrap();
    let options = CompileOptions {
        target: Target::Gateway(Some("gateway-conformance-infra/same-namespace".to_string())),
        ..CompileOptions::default()
    };
    let bytes = compile(&documents, &options).unwrap().bytes;
    let program = Program::from_bytes(&bytes).unwrap();
    check_golden("backend-redirect.swb", &bytes);
    check_golden("backend-redirect.listing.txt", program.listing().as_bytes());
}

/// The writer stamps the lowest version that expresses a program: the quick start needs
/// nothing from 1.1, so older plugins still load it; the misdirected-request program
/// needs 1.1; the backend-redirect program 1.2.
#[test]
fn golden_headers_carry_the_lowest_sufficient_format_version() {
    assert_eq!(VERSION_MINOR, 2);
    for (name, minor) in [
        ("quickstart.swb", 0),
        ("misdirected.swb", 1),
        ("backend-redirect.swb", 2),
    ] {
        let golden = std::fs::read(root().join("compiler/tests/golden").join(name)).unwrap();
        assert_eq!(
            u16::from_le_bytes([golden[8], golden[9]]),
            VERSION_MAJOR,
            "{name}"
        );
        assert_eq!(u16::from_le_bytes([golden[10], golden[11]]), minor, "{name}");
    }
}

/// Rules with the same backends and filters share one action, one op run, one backend
/// set and its backend records (the writer interns them like strings): 200 rules to
/// three services write three backend records, not 180.
#[test]
fn rules_with_the_same_action_share_its_records() {
    let mut manifests = String::from(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: ns}\n\
         spec: {gatewayClassName: x, listeners: [{name: http, port: 80, protocol: HTTP}]}\n",
    );
    for svc in ["a", "b", "c"] {
        manifests.push_str(&format!(
            "---\napiVersion: v1\nkind: Service\nmetadata: {{name: {svc}, namespace: ns}}\nspec: {{ports: [{{port: 80}}]}}\n"
        ));
    }
    // HTTPRoutes hold at most 16 rules: 12 routes of 15.
    for route in 0..12 {
        manifests.push_str(&format!(
            "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: r{route}, namespace: ns}}\n\
             spec:\n  parentRefs: [{{name: gw}}]\n  rules:\n"
        ));
        for rule in 0..15 {
            let i = route * 15 + rule;
            let svc = ["a", "b", "c"][i % 3];
            manifests.push_str(&format!(
                "  - matches: [{{path: {{type: PathPrefix, value: /p{i}}}}}]\n    backendRefs: [{{name: {svc}, port: 80}}]\n"
            ));
        }
    }
    let path = std::env::temp_dir().join(format!("switchyard-shared-{}.yaml", std::process::id()));
    std::fs::write(&path, manifests).unwrap();
    let documents = load_inputs(&[path.to_string_lossy().into_owned()]).unwrap();
    let _ = std::fs::remove_file(&path);
    let bytes = compile(&documents, &CompileOptions::default()).unwrap().bytes;
    let program = Program::from_bytes(&bytes).unwrap();
    assert_eq!(program.entry_count(), 180);
    assert_eq!(program.backend_count(), 3);
}
