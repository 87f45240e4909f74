//! The route-test corpus (`corpus/`) and the examples (`examples/`), run through
//! `switchyard test`'s library on the native and the wasm engine: the same files must
//! pass on both.
//!
//! A corpus directory holds `manifests.yaml` and one or more `*.test.yaml`; it is run
//! with the nearest ancestor's `base/manifests.yaml` (the suite's shared resources).

use std::path::{Path, PathBuf};

use switchyard_compiler::compile::CompileOptions;
use switchyard_compiler::routetest::{EngineKind, TestOptions, run_all};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Every directory below `dir` with a `manifests.yaml` and test files, sorted.
fn suites(dir: &Path) -> Vec<(Vec<String>, Vec<String>)> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        let tests: Vec<String> = entries
            .iter()
            .filter(|p| p.to_string_lossy().ends_with(".test.yaml"))
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        let manifests = dir.join("manifests.yaml");
        if manifests.is_file() && !tests.is_empty() {
            let mut inputs: Vec<String> = dir
                .ancestors()
                .skip(1)
                .map(|a| a.join("base").join("manifests.yaml"))
                .find(|b| b.is_file())
                .map(|b| b.to_string_lossy().into_owned())
                .into_iter()
                .collect();
            inputs.push(manifests.to_string_lossy().into_owned());
            found.push((inputs, tests));
        }
        stack.extend(entries.into_iter().filter(|p| p.is_dir()));
    }
    found.sort();
    found
}

fn run_suites(dir: &Path, engine: EngineKind) {
    let suites = suites(dir);
    assert!(!suites.is_empty(), "no route tests found under {}", dir.display());
    let (mut passed, mut failed) = (0, Vec::new());
    for (manifests, tests) in suites {
        let options = TestOptions {
            manifests: manifests.clone(),
            test_files: tests.clone(),
            engine,
            wasm: None,
            verbose: false,
            json: false,
            compile: CompileOptions::default(),
        };
        let results = run_all(&options).unwrap_or_else(|d| {
            panic!(
                "{tests:?} with {manifests:?} is invalid:\n{}",
                d.0.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n")
            )
        });
        for result in results {
            if result.failures.is_empty() {
                passed += 1;
            } else {
                failed.push(format!(
                    "{}:{}: {}\n    {}",
                    result.file,
                    result.line,
                    result.name,
                    result.failures.join("\n    ")
                ));
            }
        }
    }
    eprintln!(
        "{}: {passed} passed, {} failed on {engine:?}",
        dir.display(),
        failed.len()
    );
    assert!(
        failed.is_empty(),
        "{} case(s) failed on {engine:?}:\n{}",
        failed.len(),
        failed.join("\n")
    );
    assert!(passed > 0);
}

#[test]
fn gateway_api_corpus_passes_on_native_engine() {
    run_suites(&root().join("corpus"), EngineKind::Native);
}

#[test]
fn gateway_api_corpus_passes_on_wasm_engine() {
    run_suites(&root().join("corpus"), EngineKind::Wasm);
}

#[test]
fn examples_pass_on_native_engine() {
    run_suites(&root().join("examples"), EngineKind::Native);
}

#[test]
fn examples_pass_on_wasm_engine() {
    run_suites(&root().join("examples"), EngineKind::Wasm);
}
