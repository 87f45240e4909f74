//! Compiles a generated configuration with the compiler library and proves the claims
//! `requests.json` makes: every rule is live and won by its own request, and the
//! early/middle/late requests hit the first, middle and last entry of their virtual host
//! and always reach the cluster written down.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use switchyard_bytecode::ir::{HostPattern, ProgramIr};
use switchyard_bytecode::{Outcome, Program, Request, Scratch};
use switchyard_compiler::compile::{CompileOptions, Compiled, Target, compile};
use switchyard_compiler::diag::Severity;
use switchyard_compiler::input::load_texts;

use crate::model::{Config, Form, Host, PORT, Probe};
use crate::render::{self, GATEWAY, ISTIO_GATEWAY};

/// `requests.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestsFile {
    /// The compile target as command-line arguments.
    pub target: [String; 2],
    pub port: u32,
    pub requests: Samples,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Samples {
    pub early: SampleRequest,
    pub middle: SampleRequest,
    pub late: SampleRequest,
    pub miss: SampleRequest,
}

impl Samples {
    pub fn named(&self) -> [(&'static str, &SampleRequest); 4] {
        [
            ("early", &self.early),
            ("middle", &self.middle),
            ("late", &self.late),
            ("miss", &self.miss),
        ]
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampleRequest {
    pub authority: String,
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    /// `None`: no rule matches (404).
    pub expect_cluster: Option<String>,
}

impl SampleRequest {
    pub fn request(&self, random: u64) -> Request<'_> {
        Request {
            port: PORT,
            authority: &self.authority,
            method: &self.method,
            path: &self.path,
            scheme: "http",
            headers: (&self.headers).into(),
            random,
            sni: None,
        }
    }
}

/// Random numbers a sample is evaluated with: its cluster must not depend on the pick.
const RANDOMS: [u64; 4] = [0, 0x9E37_79B9_7F4A_7C15, u64::MAX / 2, u64::MAX];

/// Compiles manifests for the form's target with the library behind `switchyard compile`.
/// Errors and warnings are both failures: a warning means some rule is not what the
/// generator meant.
pub fn compile_manifests(form: Form, manifests: &str) -> Result<Compiled, String> {
    let documents = load_texts(&[("manifests.yaml".to_string(), manifests.to_string())])
        .map_err(|d| render_diags(&d.0))?;
    let target = match form {
        Form::GatewayApi => Target::Gateway(Some(format!("{}/{}", GATEWAY.0, GATEWAY.1))),
        Form::Istio => Target::IstioGateway(format!("{}/{}", ISTIO_GATEWAY.0, ISTIO_GATEWAY.1)),
    };
    let options = CompileOptions {
        target,
        ..CompileOptions::default()
    };
    let compiled = compile(&documents, &options).map_err(|d| render_diags(&d.0))?;
    let serious: Vec<_> = compiled
        .diagnostics
        .0
        .iter()
        .filter(|d| d.severity >= Severity::Warning)
        .cloned()
        .collect();
    if !serious.is_empty() {
        return Err(render_diags(&serious));
    }
    Ok(compiled)
}

fn render_diags(diagnostics: &[switchyard_compiler::diag::Diagnostic]) -> String {
    let shown: Vec<String> = diagnostics.iter().take(5).map(ToString::to_string).collect();
    format!(
        "the generated configuration does not compile cleanly ({} diagnostics):\n{}",
        diagnostics.len(),
        shown.join("\n")
    )
}

/// The host whose rules the samples use: the middle one, moved on to an exact name.
pub fn sample_host(config: &Config) -> usize {
    let middle = config.hosts.len() / 2;
    (middle..config.hosts.len())
        .chain(0..middle)
        .find(|&h| !config.hosts[h].is_wildcard())
        .unwrap_or(0)
}

/// `(host, rule)` of the first, middle and last entry of the sample host's vhost, read
/// from the compiled IR (entries are in evaluation order there).
pub fn sample_rules(form: Form, config: &Config, ir: &ProgramIr) -> Result<[(usize, usize); 3], String> {
    let host = &config.hosts[sample_host(config)];
    let sources = sources(form, config);
    let vhost = ir
        .listeners
        .iter()
        .filter(|l| l.port == PORT)
        .flat_map(|l| &l.vhosts)
        .find(|v| v.host == HostPattern::Exact(host.hostname.clone()))
        .ok_or_else(|| format!("no virtual host {} in the program", host.hostname))?;
    if vhost.entries.len() != host.rules.len() {
        return Err(format!(
            "virtual host {} has {} entries for {} rules",
            host.hostname,
            vhost.entries.len(),
            host.rules.len()
        ));
    }
    let last = vhost.entries.len() - 1;
    let mut picked = [(0, 0); 3];
    for (slot, position) in [0, last / 2, last].into_iter().enumerate() {
        let s = &vhost.entries[position].source;
        picked[slot] = *sources
            .get(&(s.namespace.clone(), s.name.clone(), u32::from(s.rule)))
            .ok_or_else(|| format!("entry {position} of {} comes from an unknown rule", host.hostname))?;
    }
    Ok(picked)
}

type SourceKey = (String, String, u32);

fn sources(form: Form, config: &Config) -> HashMap<SourceKey, (usize, usize)> {
    let mut map = HashMap::new();
    for (h, host) in config.hosts.iter().enumerate() {
        for j in 0..host.rules.len() {
            map.insert(render::source_of(form, host, j), (h, j));
        }
    }
    map
}

/// Checks every rule: its request must be won by exactly that rule. Returns how many.
pub fn verify_every_rule(form: Form, config: &Config, program: &Program) -> Result<usize, String> {
    let total: usize = config.hosts.iter().map(|h| h.rules.len()).sum();
    if program.entry_count() as usize != total {
        return Err(format!("{} entries for {total} rules", program.entry_count()));
    }
    let mut scratch = Scratch::new();
    for host in &config.hosts {
        for (j, rule) in host.rules.iter().enumerate() {
            let sample = sample_of(host, &rule.probe, None);
            let want = render::source_of(form, host, j);
            let got = program
                .evaluate(&sample.request(RANDOMS[0]), &mut scratch)
                .entry
                .map(|e| {
                    let s = program.source(e);
                    (s.namespace.to_string(), s.name.to_string(), s.rule)
                });
            if got.as_ref() != Some(&want) {
                return Err(format!("request {sample:?} is won by {got:?}, not by {want:?}"));
            }
        }
    }
    Ok(total)
}

/// The request for `probe` to `host`, with the cluster it reaches written in later.
pub fn sample_of(host: &Host, probe: &Probe, expect_cluster: Option<String>) -> SampleRequest {
    SampleRequest {
        authority: host.authority.clone(),
        method: probe.method.to_string(),
        path: probe.path.clone(),
        headers: probe.headers.clone(),
        expect_cluster,
    }
}

/// A request to the sample host that no rule matches.
pub fn miss(host: &Host) -> SampleRequest {
    SampleRequest {
        authority: host.authority.clone(),
        method: "GET".into(),
        path: "/no/such/page?version=v1".into(),
        headers: vec![
            ("user-agent".into(), "switchyard-bench/1.0".into()),
            ("accept".into(), "*/*".into()),
        ],
        expect_cluster: None,
    }
}

/// The entry that wins `sample` and the cluster it reaches, the same for every random
/// pick; `None` for a 404. Errors for any other outcome.
pub fn decide(program: &Program, sample: &SampleRequest) -> Result<Option<(u32, String)>, String> {
    let mut scratch = Scratch::new();
    let mut seen: Option<Option<(u32, String)>> = None;
    for random in RANDOMS {
        let decision = program.evaluate(&sample.request(random), &mut scratch);
        let outcome = match (decision.entry, decision.outcome) {
            (Some(entry), Outcome::Forward { cluster, .. }) => Some((entry, cluster.to_string())),
            (None, Outcome::Reply { status: 404, .. }) => None,
            (_, other) => return Err(format!("request {sample:?} is answered {other:?}")),
        };
        match &seen {
            Some(previous) if *previous != outcome => {
                return Err(format!(
                    "request {sample:?} reaches {previous:?} or {outcome:?} by chance"
                ));
            }
            _ => seen = Some(outcome),
        }
    }
    Ok(seen.flatten())
}
