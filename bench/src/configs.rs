//! The configurations every benchmark runs on, generated once into
//! `target/bench/configs/` (ignored by Git) and reused while the generator's output is
//! unchanged.

use std::path::{Path, PathBuf};

use crate::generate::{Generated, generate};
use crate::model::{Form, Options};

/// The sizes of issue #6.
pub const SIZES: [usize; 4] = [100, 1_000, 10_000, 100_000];
/// The seed of every published figure.
pub const SEED: u64 = 6;

/// Where generated configurations and results go: `target/bench/`.
pub fn work_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("bench")
}

/// One benchmark configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Case {
    pub form: Form,
    pub rules: usize,
    /// `None`: the default spread (about 40 rules per host).
    pub hosts: Option<usize>,
}

impl Case {
    pub fn options(&self) -> Options {
        Options {
            rules: self.rules,
            hosts: self.hosts,
            seed: SEED,
            form: self.form,
        }
    }

    /// `gateway-api-10000` or `istio-10000-1host`.
    pub fn name(&self) -> String {
        match self.hosts {
            None => format!("{}-{}", self.form.name(), self.rules),
            Some(h) => format!("{}-{}-{h}host", self.form.name(), self.rules),
        }
    }

    pub fn layout(&self) -> String {
        match self.hosts {
            None => format!("{} hosts", self.options().host_count()),
            Some(1) => "1 host".to_string(),
            Some(h) => format!("{h} hosts"),
        }
    }
}

/// The cases: both forms at every size with the default spread, plus every size but
/// the largest in one virtual host (the layout where Envoy's router scans longest).
pub fn cases(sizes: &[usize]) -> Vec<Case> {
    let mut cases = Vec::new();
    for form in [Form::GatewayApi, Form::Istio] {
        for &rules in sizes {
            cases.push(Case {
                form,
                rules,
                hosts: None,
            });
        }
        for &rules in sizes.iter().filter(|&&r| r <= 10_000) {
            cases.push(Case {
                form,
                rules,
                hosts: Some(1),
            });
        }
    }
    cases
}

/// Generates `case` (in memory; also written to `target/bench/configs/NAME/`).
pub fn materialize(case: &Case) -> Result<(Generated, PathBuf), String> {
    let generated = generate(&case.options())?;
    let dir = work_dir().join("configs").join(case.name());
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let manifests = dir.join("manifests.yaml");
    let same = std::fs::read(&manifests).is_ok_and(|old| old == generated.manifests.as_bytes());
    if !same {
        std::fs::write(&manifests, &generated.manifests)
            .map_err(|e| format!("{}: {e}", manifests.display()))?;
    }
    let json = serde_json::to_string_pretty(&generated.requests).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("requests.json"), json).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok((generated, dir))
}

/// The median of `values` (the mean of the middle two for an even count).
pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// Parses `--sizes 100,1000` and `--runs N` style options shared by the benchmarks.
pub fn parse_sizes(text: &str) -> Result<Vec<usize>, String> {
    text.split(',')
        .map(|s| {
            s.trim()
                .replace('_', "")
                .parse::<usize>()
                .map_err(|_| format!("not a size: {s}"))
        })
        .collect()
}
