//! The route-test suites of `corpus/` and `examples/`, and running them on an engine.
//!
//! A suite directory holds `manifests.yaml` and one or more `*.test.yaml`; it is run
//! with the nearest ancestor's `base/manifests.yaml` (the suite's shared resources).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use switchyard_compiler::compile::CompileOptions;
use switchyard_compiler::routetest::{EngineKind, TestOptions, run_all};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Manifests (base first) and test files of one suite.
pub type Suite = (Vec<String>, Vec<String>);

/// Every directory below `dir` with a `manifests.yaml` and test files, sorted.
pub fn suites(dir: &Path) -> Vec<Suite> {
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

/// Cases known to fail on one engine in one way, with the reason: the engines must
/// otherwise agree ("unsupported cases sit on an explicit list with a reason").
#[derive(Debug, Clone, Copy)]
pub struct Known {
    /// The test files: every file whose path contains this.
    pub files: &'static str,
    /// One case, or `None`: any case of those files.
    pub case: Option<&'static str>,
    /// Every failure of such a case contains this; other failures still fail.
    pub failure: &'static str,
    pub reason: &'static str,
}

/// Runs every suite below `dir` on `engine`, `workers` suites at a time; fails listing
/// every failing case.
pub fn run_suites(dir: &Path, engine: EngineKind, envoy: Option<PathBuf>, workers: usize) {
    run_suites_except(dir, engine, envoy, workers, &[]);
}

/// As [`run_suites`], except for the `known` failures; an entry that no case matches any
/// more fails too, so the list shrinks when a discrepancy is fixed.
pub fn run_suites_except(
    dir: &Path,
    engine: EngineKind,
    envoy: Option<PathBuf>,
    workers: usize,
    known: &[Known],
) {
    let queue = Mutex::new(suites(dir));
    assert!(
        !queue.lock().unwrap().is_empty(),
        "no route tests found under {}",
        dir.display()
    );
    let outcome = Mutex::new((0usize, Vec::new(), vec![false; known.len()]));
    std::thread::scope(|scope| {
        for _ in 0..workers.max(1) {
            scope.spawn(|| {
                loop {
                    let Some((manifests, tests)) = queue.lock().unwrap().pop() else {
                        return;
                    };
                    let options = TestOptions {
                        manifests: manifests.clone(),
                        test_files: tests.clone(),
                        engine,
                        wasm: None,
                        envoy: envoy.clone(),
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
                    let mut outcome = outcome.lock().unwrap();
                    for result in results {
                        let listed = known.iter().position(|k| {
                            result.file.contains(k.files)
                                && k.case.is_none_or(|c| c == result.name)
                                && !result.failures.is_empty()
                                && result.failures.iter().all(|f| f.contains(k.failure))
                        });
                        if let Some(i) = listed {
                            outcome.2[i] = true;
                            eprintln!(
                                "known failure on {engine:?}: {}: {}: {}",
                                result.file, result.name, known[i].reason
                            );
                        } else if result.failures.is_empty() {
                            outcome.0 += 1;
                        } else {
                            outcome.1.push(format!(
                                "{}:{}: {}\n    {}",
                                result.file,
                                result.line,
                                result.name,
                                result.failures.join("\n    ")
                            ));
                        }
                    }
                }
            });
        }
    });
    let (passed, mut failed, used) = outcome.into_inner().unwrap();
    failed.sort();
    for (k, used) in known.iter().zip(used) {
        if !used {
            failed.push(format!(
                "known failure {:?} {:?} no longer happens; remove it from the list",
                k.files, k.case
            ));
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
