//! Golden programs: the bytes the compiler writes for the quick-start example, committed
//! with their listing. A change to the bytecode layout shows up here first; it must come
//! with a deliberate format version bump (docs/bytecode.md, "Versioning").
//!
//! Regenerate after such a change with:
//!     SWITCHYARD_BLESS=1 cargo test -p switchyard-compiler --test golden

use std::path::{Path, PathBuf};

use switchyard_bytecode::Program;
use switchyard_bytecode::format::{VERSION_MAJOR, VERSION_MINOR};
use switchyard_compiler::compile::{CompileOptions, compile};
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

#[test]
fn golden_header_carries_the_current_format_version() {
    let golden = std::fs::read(root().join("compiler/tests/golden/quickstart.swb")).unwrap();
    assert_eq!(u16::from_le_bytes([golden[8], golden[9]]), VERSION_MAJOR);
    assert_eq!(u16::from_le_bytes([golden[10], golden[11]]), VERSION_MINOR);
}
