//! The whole generator: model, manifests, compile, choose and verify the samples.

use switchyard_bytecode::Program;

use crate::model::{self, Config, Options, PORT};
use crate::render;
use crate::samples::{self, RequestsFile, Samples, compile_manifests, decide, sample_of};

/// A verified configuration.
#[derive(Debug)]
pub struct Generated {
    pub config: Config,
    pub manifests: String,
    pub requests: RequestsFile,
    /// The program `switchyard compile` writes for it.
    pub program: Vec<u8>,
}

/// Generates, compiles and verifies. The first compile finds which rules the compiler
/// puts first, in the middle and last in the sample host; those three are given a single
/// backend (precedence does not depend on backends) so that their requests have one
/// expected cluster, and the result is compiled and checked again.
pub fn generate(options: &Options) -> Result<Generated, String> {
    if options.rules == 0 {
        return Err("--rules must be at least 1".into());
    }
    let mut config = model::generate(options);
    let first = compile_manifests(options.form, &render::manifests(options.form, &config))?;
    let picked = samples::sample_rules(options.form, &config, &first.ir)?;
    drop(first);
    for &(h, j) in &picked {
        config.hosts[h].rules[j].make_single_backend();
    }
    let manifests = render::manifests(options.form, &config);
    let compiled = compile_manifests(options.form, &manifests)?;
    if samples::sample_rules(options.form, &config, &compiled.ir)? != picked {
        return Err("the sample rules moved when their backends changed".into());
    }
    let program =
        Program::from_bytes(&compiled.bytes).map_err(|e| format!("the program does not load: {e}"))?;
    samples::verify_every_rule(options.form, &config, &program)?;

    let sample_host = &config.hosts[samples::sample_host(&config)];
    let mut chosen = Vec::new();
    for &(h, j) in &picked {
        let host = &config.hosts[h];
        let mut sample = sample_of(host, &host.rules[j].probe, None);
        let (entry, cluster) =
            decide(&program, &sample)?.ok_or_else(|| format!("sample {sample:?} matches no rule"))?;
        let source = program.source(entry);
        let want = render::source_of(options.form, host, j);
        if (source.namespace, source.name, source.rule) != (want.0.as_str(), want.1.as_str(), want.2) {
            return Err(format!(
                "sample {sample:?} is won by {source}, not by rule {j} of host {h}"
            ));
        }
        sample.expect_cluster = Some(cluster);
        chosen.push(sample);
    }
    let miss = samples::miss(sample_host);
    if let Some(hit) = decide(&program, &miss)? {
        return Err(format!("the miss request is won by entry {}", hit.0));
    }
    let [early, middle, late]: [_; 3] = chosen.try_into().map_err(|_| "three samples".to_string())?;
    Ok(Generated {
        requests: RequestsFile {
            target: render::target(options.form),
            port: PORT,
            requests: Samples {
                early,
                middle,
                late,
                miss,
            },
        },
        program: compiled.bytes,
        manifests,
        config,
    })
}
