//! The generator's promises (small sizes; the benchmarks use the same code at large
//! ones): the output depends only on the options and seed, it compiles cleanly, and each
//! sample request in `requests.json` is won by the rule it claims, reaching the cluster it
//! names.

use switchyard_bench::generate::{Generated, generate};
use switchyard_bench::model::{Form, Options};
use switchyard_bench::samples::{RequestsFile, compile_manifests};
use switchyard_bytecode::ir::HostPattern;
use switchyard_bytecode::{Outcome, Program, Scratch};

fn options(form: Form, rules: usize, hosts: Option<usize>, seed: u64) -> Options {
    Options {
        rules,
        hosts,
        seed,
        form,
    }
}

fn generated(options: &Options) -> Generated {
    generate(options).unwrap_or_else(|e| panic!("{options:?}: {e}"))
}

#[test]
fn the_same_seed_gives_byte_identical_output_and_another_seed_does_not() {
    for form in [Form::GatewayApi, Form::Istio] {
        let a = generated(&options(form, 120, None, 1));
        let b = generated(&options(form, 120, None, 1));
        assert_eq!(a.manifests, b.manifests);
        assert_eq!(a.requests, b.requests);
        assert_eq!(a.program, b.program);
        let c = generated(&options(form, 120, None, 2));
        assert_ne!(a.manifests, c.manifests, "the seed must matter");
    }
}

#[test]
fn each_sample_is_won_by_the_first_middle_or_last_entry_of_its_virtual_host() {
    for form in [Form::GatewayApi, Form::Istio] {
        for (rules, hosts) in [(100, None), (400, None), (150, Some(1))] {
            let options = options(form, rules, hosts, 7);
            let generated = generated(&options);
            // Compile the written text again, as a user of the files would.
            let compiled = compile_manifests(form, &generated.manifests).expect("compiles without warnings");
            let program = Program::from_bytes(&compiled.bytes).expect("loads");
            assert_eq!(
                program.entry_count() as usize,
                rules,
                "{options:?}: every rule is one entry"
            );
            let requests = &generated.requests.requests;
            let mut scratch = Scratch::new();
            for (name, sample) in requests.named() {
                let decision = program.evaluate(&sample.request(12345), &mut scratch);
                let Some(expected) = &sample.expect_cluster else {
                    assert_eq!(name, "miss");
                    assert_eq!(
                        decision.entry, None,
                        "{options:?}: the miss request matches nothing"
                    );
                    continue;
                };
                assert!(
                    matches!(decision.outcome, Outcome::Forward { cluster, .. } if cluster == expected),
                    "{options:?} {name}: {:?}, expected {expected}",
                    decision.outcome
                );
                let vhost = compiled
                    .ir
                    .listeners
                    .iter()
                    .flat_map(|l| &l.vhosts)
                    .find(|v| v.host == HostPattern::Exact(sample.authority.clone()))
                    .expect("the sample host is a vhost");
                let last = vhost.entries.len() - 1;
                let position = match name {
                    "early" => 0,
                    "middle" => last / 2,
                    _ => last,
                };
                let want = &vhost.entries[position].source;
                let got = program.source(decision.entry.expect("a rule wins"));
                assert_eq!(
                    (got.namespace, got.name, got.rule),
                    (want.namespace.as_str(), want.name.as_str(), u32::from(want.rule)),
                    "{options:?} {name}: won by the wrong rule"
                );
            }
            if hosts == Some(1) {
                assert_eq!(
                    compiled.ir.listeners[0].vhosts.len(),
                    1,
                    "--hosts 1 is one virtual host"
                );
            }
        }
    }
}

#[test]
fn gen_config_writes_manifests_and_requests_json_in_the_agreed_shape() {
    let out = std::env::temp_dir().join(format!("switchyard-gen-config-{}", std::process::id()));
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_gen-config"))
        .args(["--rules", "100", "--form", "istio", "--seed", "3", "--out"])
        .arg(&out)
        .status()
        .expect("runs");
    assert!(status.success());
    let text = std::fs::read_to_string(out.join("requests.json")).expect("requests.json");
    let value: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(
        value["target"],
        serde_json::json!(["--istio-gateway", "istio-system/ingress"])
    );
    assert_eq!(value["port"], 80);
    for name in ["early", "middle", "late", "miss"] {
        let request = &value["requests"][name];
        for field in ["authority", "method", "path", "headers", "expect_cluster"] {
            assert!(request.get(field).is_some(), "{name}.{field}");
        }
        assert!(
            request["headers"]
                .as_array()
                .expect("array")
                .iter()
                .all(|h| h.as_array().is_some_and(|p| p.len() == 2))
        );
    }
    assert!(value["requests"]["miss"]["expect_cluster"].is_null());
    let parsed: RequestsFile = serde_json::from_str(&text).expect("typed");
    let again = generated(&options(Form::Istio, 100, None, 3));
    assert_eq!(
        parsed, again.requests,
        "the binary writes what the library generates"
    );
    let manifests = std::fs::read_to_string(out.join("manifests.yaml")).expect("manifests.yaml");
    assert_eq!(manifests, again.manifests);
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_gen-config"))
        .args(["--rules", "100", "--form", "nginx", "--out"])
        .arg(&out)
        .output()
        .expect("runs");
    assert_eq!(bad.status.code(), Some(2), "a bad argument is exit 2");
    let _ = std::fs::remove_dir_all(&out);
}
