//! Writes the seed corpus for the `loader` target: the test suite's sample programs and
//! a few generated tables from the benchmarks, each written with `write_program`.
//!
//! cargo run --manifest-path fuzz/Cargo.toml --bin seeds [-- DIR]   (default fuzz/corpus/loader)

#[path = "../../bytecode/tests/common/mod.rs"]
mod common;
#[allow(dead_code)]
#[path = "../../bytecode/benches/tables/mod.rs"]
mod tables;

use std::path::PathBuf;

use switchyard_bytecode::write_program;

fn main() {
    let dir = std::env::args().nth(1).map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("corpus")
            .join("loader")
    });
    std::fs::create_dir_all(&dir).expect("create the corpus directory");
    let mut programs: Vec<(String, _)> = common::sample_programs()
        .into_iter()
        .enumerate()
        .map(|(i, ir)| (format!("sample-{i}"), ir))
        .collect();
    for rules in [1, 10, 40, 100] {
        programs.push((format!("table-{rules}"), tables::generate(rules).ir));
    }
    for (name, ir) in programs {
        let bytes = write_program(&ir).expect("seed programs are valid");
        switchyard_bytecode::Program::from_bytes(&bytes).expect("seed programs load");
        std::fs::write(dir.join(format!("{name}.swb")), &bytes).expect("write a seed");
        println!("{name}: {} bytes", bytes.len());
    }
}
