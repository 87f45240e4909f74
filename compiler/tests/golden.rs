//! Golden programs: the bytes the compiler writes for the quick-start example, committed
//! with their listing. A change to the bytecode layout shows up here first; it must come
//! with a deliberate format version bump (docs/bytecode.md, "Versioning").
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

/// The writer stamps the lowest version that expresses a program: the quick start needs
/// nothing from 1.1, so older plugins still load it; the misdirected-request program
/// needs 1.1.
#[test]
fn golden_headers_carry_the_lowest_sufficient_format_version() {
    for (name, minor) in [("quickstart.swb", 0), ("misdirected.swb", VERSION_MINOR)] {
        let golden = std::fs::read(root().join("compiler/tests/golden").join(name)).unwrap();
        assert_eq!(
            u16::from_le_bytes([golden[8], golden[9]]),
            VERSION_MAJOR,
            "{name}"
        );
        assert_eq!(u16::from_le_bytes([golden[10], golden[11]]), minor, "{name}");
    }
}
