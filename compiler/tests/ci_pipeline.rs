//! The example CI pipeline (`examples/ci/pipeline.sh`) run as a pull request job would
//! run it: in a git repository whose `main` holds the example, with the working tree
//! as the change under review.

#[path = "support/binary.rs"]
#[allow(dead_code)]
mod binary;
#[path = "support/suites.rs"]
#[allow(dead_code)]
mod suites;

use std::path::Path;
use std::process::Command;

use self::binary::{Run, Scratch, git};
use self::suites::root;

const FILES: [&str; 3] = [
    "examples/ci/pipeline.sh",
    "examples/ci/deploy/manifests.yaml",
    "examples/ci/deploy/payments.test.yaml",
];

/// A repository with the example committed on `main`.
fn repository() -> Scratch {
    let scratch = Scratch::new("ci-pipeline");
    git(&scratch.0, &["init", "-q", "-b", "main"]);
    for file in FILES {
        let text = std::fs::read_to_string(root().join(file)).unwrap();
        scratch.write(file, &text);
    }
    git(&scratch.0, &["add", "."]);
    git(&scratch.0, &["commit", "-q", "-m", "routing"]);
    scratch
}

fn pipeline(repo: &Path, env: &[(&str, &str)]) -> Run {
    let output = Command::new("sh")
        .arg("examples/ci/pipeline.sh")
        .current_dir(repo)
        .env("SWITCHYARD", env!("CARGO_BIN_EXE_switchyard"))
        .env("OUT", repo.join("out"))
        .envs(env.iter().copied())
        .output()
        .expect("sh runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[test]
fn the_example_pipeline_passes_on_an_unchanged_checkout_and_writes_sarif() {
    let repo = repository();
    let run = pipeline(&repo.0, &[]);
    run.expect_code(0);
    for step in [
        "== check",
        "== analyze",
        "== diff",
        "== test",
        "== all checks passed",
    ] {
        assert!(run.stdout.contains(step), "{step}:\n{}", run.stdout);
    }
    assert!(run.stdout.contains("routing unchanged"), "{}", run.stdout);
    assert!(
        run.stdout.contains("coverage: 5 of 6 matches (83.3%)"),
        "{}",
        run.stdout
    );
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo.0.join("out/switchyard.sarif")).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
}

#[test]
fn the_example_pipeline_reports_a_routing_change_against_main() {
    let repo = repository();
    // Under review: the untested DELETE /admin rule now goes to payments-v2.
    let manifests = repo.path("examples/ci/deploy/manifests.yaml");
    let text = std::fs::read_to_string(&manifests).unwrap();
    let changed = text.replace(
        "[{name: payments-admin, port: 8080}]",
        "[{name: payments-v2, port: 8080}]",
    );
    assert_ne!(text, changed);
    std::fs::write(&manifests, changed).unwrap();
    let run = pipeline(&repo.0, &[]);
    run.expect_code(0);
    assert!(
        run.stdout.contains("[1] backend: ")
            && run.stdout.contains("e.g. DELETE http://pay.example.com/admin"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("by HTTPRoute pay/payments rule 4 match 0 (main:examples/ci/deploy/manifests.yaml:45)"),
        "{}",
        run.stdout
    );
    // Asked to, the job fails on the change, before the tests.
    let run = pipeline(&repo.0, &[("FAIL_ON_ROUTING_CHANGE", "1")]);
    run.expect_code(1);
    assert!(!run.stdout.contains("== test"), "{}", run.stdout);
}

#[test]
fn the_example_pipeline_fails_below_the_coverage_floor() {
    let repo = repository();
    let run = pipeline(&repo.0, &[("COVERAGE_MIN", "90"), ("ENGINE", "native")]);
    run.expect_code(1);
    assert!(
        run.stdout.contains("coverage 83.3% is below --coverage-min 90"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("all checks passed"), "{}", run.stdout);
}
