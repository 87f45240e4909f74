//! `switchyard test --coverage`: which rules and matches the route test cases reached.
//!
//! The unit is one match of one rule of one resource (what an entry is compiled from,
//! `RuleRef`): every match of every HTTPRoute, GRPCRoute and VirtualService in the
//! inputs, plus any entry a tested program holds under another name (delegated Istio
//! rules). Rules the compiler makes itself (a Service's default mesh route, an Istio
//! Gateway's httpsRedirect) are not counted: no manifest line spells them.
//!
//! The rule that decided a case: with the wasm engine, the plugin's own answer (its
//! `traceHeader` trace names the winning entry), from one more send of the case's
//! request to the same program; with the native engine, and with the envoy engine
//! (whose bootstrap does not enable traces), the native evaluator on the same program
//! and request. The rule is picked before any random draw, so it does not depend on an
//! engine's random numbers. A case reaches at most one match (its request's winner);
//! `repeat` does not change that.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use switchyard_bytecode::{Program, Scratch};

use crate::compile::compile;
use crate::diag::{Diagnostic, Diagnostics, Location, Severity};
use crate::input::load_inputs;
use crate::locate::Locator;
use crate::resources::Resources;
use crate::resources::istio::RuleAction;
use crate::rule_ref::RuleRef;

use super::file::parse_test_file;
use super::{
    CaseResult, EXIT_FAILED, EXIT_INVALID, EXIT_PASSED, EngineKind, TestOptions, file_compile_options,
    json_report, report, run_all, sent_request,
};

/// One match and the cases that reached it.
#[derive(Debug, Clone)]
pub struct MatchCoverage {
    pub rule: RuleRef,
    /// Where it is written.
    pub at: Option<Location>,
    /// In the program of a tested target (else no case could reach it).
    pub in_program: bool,
    /// `(test file, line, case name)` of each case it decided.
    pub cases: Vec<(String, u32, String)>,
}

/// Coverage over all test files.
#[derive(Debug, Clone)]
pub struct Coverage {
    /// How the deciding rules were found, in words.
    pub entries_from: String,
    /// Sorted by file and line.
    pub matches: Vec<MatchCoverage>,
}

/// Covered and total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    pub covered: usize,
    pub total: usize,
}

impl Count {
    /// Percent covered; 100 when there is nothing to cover.
    pub fn percent(self) -> f64 {
        if self.total == 0 {
            100.0
        } else {
            self.covered as f64 * 100.0 / self.total as f64
        }
    }

    fn json(self) -> Value {
        json!({"covered": self.covered, "total": self.total, "percent": round1(self.percent())})
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

impl Coverage {
    pub fn matches(&self) -> Count {
        Count {
            covered: self.matches.iter().filter(|m| !m.cases.is_empty()).count(),
            total: self.matches.len(),
        }
    }

    /// A rule is covered when any of its matches is.
    pub fn rules(&self) -> Count {
        let mut rules: BTreeMap<String, bool> = BTreeMap::new();
        for m in &self.matches {
            *rules.entry(m.rule.rule_label()).or_default() |= !m.cases.is_empty();
        }
        Count {
            covered: rules.values().filter(|c| **c).count(),
            total: rules.len(),
        }
    }

    /// Per manifest file, sorted by file.
    pub fn files(&self) -> Vec<(String, Count)> {
        let mut files: BTreeMap<String, Count> = BTreeMap::new();
        for m in &self.matches {
            let file =
                m.at.as_ref()
                    .map_or_else(|| "<unknown>".to_string(), |a| a.file.clone());
            let count = files.entry(file).or_insert(Count { covered: 0, total: 0 });
            count.total += 1;
            count.covered += usize::from(!m.cases.is_empty());
        }
        files.into_iter().collect()
    }

    pub fn render_text(&self, min: Option<f64>) -> String {
        let (matches, rules) = (self.matches(), self.rules());
        let mut out = format!(
            "coverage: {} of {} matches ({:.1}%), {} of {} rules ({:.1}%)\n",
            matches.covered,
            matches.total,
            matches.percent(),
            rules.covered,
            rules.total,
            rules.percent()
        );
        out.push_str(&format!("  deciding rules: {}\n", self.entries_from));
        for (file, count) in self.files() {
            out.push_str(&format!(
                "  {file}: {} of {} matches\n",
                count.covered, count.total
            ));
        }
        let missed: Vec<&MatchCoverage> = self.matches.iter().filter(|m| m.cases.is_empty()).collect();
        if !missed.is_empty() {
            out.push_str("not reached by any case:\n");
            for m in missed {
                let at =
                    m.at.as_ref()
                        .map_or_else(String::new, |a| format!("{}:{}: ", a.file, a.line));
                let why = if m.in_program {
                    ""
                } else {
                    " (in no tested target's program)"
                };
                out.push_str(&format!("  {at}{}{why}\n", m.rule));
            }
        }
        if let Some(min) = min
            && matches.percent() < min
        {
            out.push_str(&format!(
                "coverage {:.1}% is below --coverage-min {min}\n",
                matches.percent()
            ));
        }
        out
    }

    pub fn render_json(&self, min: Option<f64>) -> Value {
        let matches: Vec<Value> = self
            .matches
            .iter()
            .map(|m| {
                json!({
                    "kind": m.rule.kind,
                    "namespace": m.rule.namespace,
                    "name": m.rule.name,
                    "rule": m.rule.rule,
                    "match": m.rule.match_index,
                    "file": m.at.as_ref().map(|a| a.file.clone()),
                    "line": m.at.as_ref().map(|a| a.line),
                    "inProgram": m.in_program,
                    "covered": !m.cases.is_empty(),
                    "cases": m.cases.iter().map(|(file, line, name)| json!({"file": file, "line": line, "name": name})).collect::<Vec<_>>(),
                })
            })
            .collect();
        let files: Vec<Value> = self
            .files()
            .into_iter()
            .map(|(file, count)| json!({"file": file, "covered": count.covered, "total": count.total}))
            .collect();
        json!({
            "decidingRules": self.entries_from,
            "matches": self.matches().json(),
            "rules": self.rules().json(),
            "min": min,
            "belowMin": min.is_some_and(|min| self.matches().percent() < min),
            "files": files,
            "entries": matches,
        })
    }
}

/// `--coverage-min`: a percentage from 0 to 100.
pub fn parse_min(text: &str) -> Result<f64, String> {
    text.trim_end_matches('%')
        .parse::<f64>()
        .ok()
        .filter(|p| (0.0..=100.0).contains(p))
        .ok_or_else(|| format!("--coverage-min {text:?}: expected a percentage from 0 to 100"))
}

/// Every match the inputs spell out, as `RuleRef`s (delegate VirtualServices and rules
/// that only delegate are left to the programs, which name their entries).
fn written_matches(resources: &Resources) -> BTreeSet<RuleRef> {
    let mut out = BTreeSet::new();
    let mut add = |kind: &'static str, meta: &crate::resources::Meta, rule: usize, matches: usize| {
        for m in 0..matches.max(1) {
            out.insert(RuleRef {
                kind,
                namespace: meta.namespace.clone(),
                name: meta.name.clone(),
                rule: rule as u32,
                match_index: m as u32,
            });
        }
    };
    for route in &resources.http_routes {
        for (i, rule) in route.rules.iter().enumerate() {
            add("HTTPRoute", &route.meta, i, rule.matches.len());
        }
    }
    for route in &resources.grpc_routes {
        for (i, rule) in route.rules.iter().enumerate() {
            add("GRPCRoute", &route.meta, i, rule.matches.len());
        }
    }
    for vs in resources
        .virtual_services
        .iter()
        .filter(|vs| !vs.hosts.is_empty())
    {
        for (i, rule) in vs.http.iter().enumerate() {
            if !matches!(rule.action, RuleAction::Delegate(_)) {
                add("VirtualService", &vs.meta, i, rule.matches.len());
            }
        }
    }
    out
}

/// Where the deciding rule of each case comes from.
enum Decider {
    Native,
    /// The plugin in the wasmtime host, asked for its trace.
    #[cfg(feature = "wasm-engine")]
    Plugin(switchyard_host_harness::Plugin),
}

impl Decider {
    fn new(options: &TestOptions) -> Result<Decider, Diagnostics> {
        match options.engine {
            #[cfg(feature = "wasm-engine")]
            EngineKind::Wasm => {
                let path = super::engine::find_plugin(options.wasm.as_deref())
                    .map_err(|m| error("<command line>", m))?;
                switchyard_host_harness::Plugin::from_file(&path)
                    .map(Decider::Plugin)
                    .map_err(|e| {
                        error(
                            &path.display().to_string(),
                            format!("cannot load the plugin: {e:#}"),
                        )
                    })
            }
            _ => Ok(Decider::Native),
        }
    }

    fn describe(&self, engine: EngineKind) -> String {
        match (self, engine) {
            (Decider::Native, EngineKind::Native) => "the native engine's evaluator".to_string(),
            (Decider::Native, _) => format!(
                "the native evaluator on the same program and requests, alongside the {} engine (which does not report the rule that decided)",
                format!("{engine:?}").to_lowercase()
            ),
            #[cfg(feature = "wasm-engine")]
            (Decider::Plugin(_), _) => {
                "the wasm plugin's own trace of each case's request (traceHeader)".to_string()
            }
        }
    }
}

fn error(file: &str, message: String) -> Diagnostics {
    Diagnostics(vec![Diagnostic::error(
        Location {
            file: file.to_string(),
            ..Location::default()
        },
        message,
    )])
}

/// The request header that asks the plugin for a trace in coverage runs.
#[cfg(feature = "wasm-engine")]
const TRACE_HEADER: &str = "x-switchyard-coverage-trace";

/// The plugin started with traces on, for one program.
#[cfg(feature = "wasm-engine")]
struct PluginTrace(switchyard_host_harness::Vm);

#[cfg(feature = "wasm-engine")]
impl PluginTrace {
    fn start(plugin: &switchyard_host_harness::Plugin, program: &[u8]) -> Result<Self, String> {
        let config = format!(
            "{{\"bytecode\": \"{}\", \"traceHeader\": \"{TRACE_HEADER}\"}}",
            crate::emit::base64::encode(program)
        );
        plugin
            .start(switchyard_host_harness::VmOptions {
                plugin_config: config.into_bytes(),
                root_id: "switchyard".to_string(),
                ..switchyard_host_harness::VmOptions::default()
            })
            .map(PluginTrace)
            .map_err(|e| format!("plugin did not start: {e:#}"))
    }

    /// The entry the plugin says won (`won=#N[...]`); `Ok(None)` when none did.
    fn winner(&mut self, sent: &super::engine::SentRequest) -> Result<Option<u32>, String> {
        let mut headers = vec![
            (":method".to_string(), sent.method.clone()),
            (":scheme".to_string(), sent.scheme.clone()),
            (":authority".to_string(), sent.authority.clone()),
            (":path".to_string(), sent.path.clone()),
        ];
        headers.extend(sent.headers.iter().cloned());
        headers.push((TRACE_HEADER.to_string(), "1".to_string()));
        // As the wasm engine sets them: the listener port and the SNI (empty on plaintext).
        self.0
            .set_property("destination.port", &i64::from(sent.port).to_le_bytes());
        self.0.set_property(
            "connection.requested_server_name",
            sent.sni.as_deref().unwrap_or("").as_bytes(),
        );
        let exchange = self
            .0
            .http_request(&switchyard_host_harness::HttpRequest {
                headers,
                ..Default::default()
            })
            .map_err(|e| format!("plugin failed: {e:#}"))?;
        let trace = exchange
            .response_headers
            .iter()
            .find(|(n, _)| n == TRACE_HEADER)
            .map(|(_, v)| v.clone())
            .ok_or("the plugin answered no trace")?;
        parse_winner(&trace).ok_or_else(|| format!("unreadable trace {trace:?}"))
    }
}

/// `... won=#12[...] ...` → `Some(Some(12))`; `won=none` → `Some(None)`.
#[cfg(any(test, feature = "wasm-engine"))]
fn parse_winner(trace: &str) -> Option<Option<u32>> {
    let won = trace.split(' ').find_map(|part| part.strip_prefix("won="))?;
    if won == "none" {
        return Some(None);
    }
    let digits: String = won
        .strip_prefix('#')?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok().map(Some)
}

/// Measures which matches the cases of `options.test_files` reach.
pub fn measure(options: &TestOptions) -> Result<Coverage, Diagnostics> {
    let documents = load_inputs(&options.manifests)?;
    let (resources, _) = Resources::from_documents(&documents);
    let locator = Locator::new(&resources);
    let mut all: BTreeMap<RuleRef, MatchCoverage> = written_matches(&resources)
        .into_iter()
        .map(|rule| {
            let coverage = MatchCoverage {
                at: rule.locate(&locator),
                rule: rule.clone(),
                in_program: false,
                cases: Vec::new(),
            };
            (rule, coverage)
        })
        .collect();
    let decider = Decider::new(options)?;
    let mut scratch = Scratch::new();
    for path in &options.test_files {
        let text = std::fs::read_to_string(path).map_err(|e| error(path, format!("cannot read: {e}")))?;
        let file = parse_test_file(path, &text).map_err(|d| Diagnostics(vec![d]))?;
        let compiled = compile(&documents, &file_compile_options(&file, &options.compile))?;
        let program =
            Program::from_bytes(&compiled.bytes).map_err(|e| error(path, format!("program refused: {e}")))?;
        #[cfg(feature = "wasm-engine")]
        let mut plugin = match &decider {
            Decider::Plugin(plugin) => {
                Some(PluginTrace::start(plugin, &compiled.bytes).map_err(|m| error(path, m))?)
            }
            Decider::Native => None,
        };
        let in_program = compiled
            .ir
            .listeners
            .iter()
            .flat_map(|l| &l.vhosts)
            .flat_map(|v| &v.entries)
            .map(|e| RuleRef::from_ir(&e.source))
            .filter(|r| !r.implicit());
        for rule in in_program {
            let at = rule.locate(&locator);
            all.entry(rule.clone())
                .or_insert(MatchCoverage {
                    rule,
                    at,
                    in_program: true,
                    cases: Vec::new(),
                })
                .in_program = true;
        }
        for case in &file.cases {
            let sent = sent_request(case, compiled.default_port);
            #[cfg(feature = "wasm-engine")]
            let winner = match &mut plugin {
                Some(plugin) => plugin
                    .winner(&sent)
                    .map_err(|m| error(path, format!("case {:?}: {m}", case.name)))?,
                None => native_winner(&program, &sent, &mut scratch),
            };
            #[cfg(not(feature = "wasm-engine"))]
            let winner = native_winner(&program, &sent, &mut scratch);
            let Some(id) = winner else { continue };
            let rule = RuleRef::from_info(&program.source(id));
            if let Some(m) = all.get_mut(&rule) {
                m.cases.push((file.path.clone(), case.line, case.name.clone()));
            }
        }
    }
    // In file and line order, as a reader walks the manifests.
    let mut matches: Vec<MatchCoverage> = all.into_values().collect();
    matches.sort_by(|a, b| {
        (&a.at.as_ref().map(|l| (&l.file, l.line)), &a.rule)
            .cmp(&(&b.at.as_ref().map(|l| (&l.file, l.line)), &b.rule))
    });
    Ok(Coverage {
        entries_from: decider.describe(options.engine),
        matches,
    })
}

/// The entry the evaluator picks for `sent` (the random draw does not take part).
fn native_winner(program: &Program, sent: &super::engine::SentRequest, scratch: &mut Scratch) -> Option<u32> {
    program.evaluate(&sent.view(0), scratch).entry
}

/// `switchyard test --coverage [--coverage-min PCT]`: runs the cases as `test` does,
/// then reports coverage. Exit status 1 when a case failed or coverage is below the
/// minimum, 2 on invalid input.
pub fn run(options: &TestOptions, min: Option<&str>) -> i32 {
    let min = match min.map(parse_min).transpose() {
        Ok(min) => min,
        Err(message) => {
            eprintln!("switchyard test: {message}");
            return EXIT_INVALID;
        }
    };
    let measured = run_all(options).and_then(|results| Ok((results, measure(options)?)));
    let (results, coverage): (Vec<CaseResult>, Coverage) = match measured {
        Ok(measured) => measured,
        Err(diagnostics) => {
            for d in diagnostics.0.iter().filter(|d| d.severity == Severity::Error) {
                eprintln!("{d}");
            }
            return EXIT_INVALID;
        }
    };
    if options.json {
        let mut value = json_report(&results, options);
        value["coverage"] = coverage.render_json(min);
        println!("{}", serde_json::to_string_pretty(&value).unwrap_or_default());
    } else {
        report(&results, options);
        print!("{}", coverage.render_text(min));
    }
    let below = min.is_some_and(|min| coverage.matches().percent() < min);
    if below || results.iter().any(|r| !r.failures.is_empty()) {
        EXIT_FAILED
    } else {
        EXIT_PASSED
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_min_is_a_percentage() {
        assert_eq!(parse_min("80"), Ok(80.0));
        assert_eq!(parse_min("72.5%"), Ok(72.5));
        assert!(parse_min("101").is_err());
        assert!(parse_min("most").is_err());
    }

    #[test]
    fn the_winner_is_read_from_the_plugin_trace() {
        let trace = "listener=80 vhost=0:shop.example.com passed=#0[method = GET] won=#12[HTTPRoute shop/a rule 0 match 0] cluster=x";
        assert_eq!(parse_winner(trace), Some(Some(12)));
        assert_eq!(parse_winner("listener=none won=none status=404"), Some(None));
        assert_eq!(parse_winner("listener=80"), None);
    }

    #[test]
    fn nothing_to_cover_is_full_coverage() {
        assert_eq!(Count { covered: 0, total: 0 }.percent(), 100.0);
        assert_eq!(Count { covered: 1, total: 4 }.percent(), 25.0);
    }
}
