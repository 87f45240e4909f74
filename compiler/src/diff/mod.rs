//! `switchyard diff`: two configurations compiled for one target and compared by what
//! they do, not how they are written. Requests are generated from the rules of both
//! programs (`equivalence::generate`), each side evaluates them with the same random
//! number, and the requests whose decision changes are grouped into classes
//! (`equivalence::classes`). Reordered files, renamed resources and keys spelled
//! differently with the same meaning compile to programs that decide alike: no output.

pub mod cli;
pub mod git;

use serde_json::json;
use switchyard_bytecode::Program;

use crate::compile::{CompileOptions, Compiled, compile};
use crate::diag::{Diagnostics, Severity};
use crate::equivalence::classes::{self, Class, Labels};
use crate::equivalence::{Report, Side, compare};
use crate::input::{Document, load_inputs, load_texts};
use crate::locate::Locator;
use crate::resources::Resources;

/// Exit status: routing is the same.
pub const EXIT_SAME: i32 = 0;
/// Exit status: some request routes differently.
pub const EXIT_CHANGED: i32 = 1;
/// Exit status: invalid input or usage.
pub const EXIT_INVALID: i32 = 2;

/// Where one side's manifests come from.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// As for `-f`: files, folders, `-`.
    pub paths: Vec<String>,
    /// Read them at this git revision instead of from the working tree.
    pub rev: Option<String>,
}

impl Inputs {
    fn load(&self) -> Result<Vec<Document>, Diagnostics> {
        match &self.rev {
            None => load_inputs(&self.paths),
            Some(rev) => match git::read_at(rev, &self.paths) {
                Ok(texts) => load_texts(&texts),
                Err(message) => Err(command_line_error(message)),
            },
        }
    }
}

fn command_line_error(message: String) -> Diagnostics {
    Diagnostics(vec![crate::diag::Diagnostic::error(
        crate::diag::Location {
            file: "<command line>".into(),
            ..Default::default()
        },
        message,
    )])
}

/// One side, compiled.
#[derive(Debug)]
pub struct CompiledSide {
    pub compiled: Compiled,
    pub resources: Resources,
}

/// Both sides compiled and compared.
#[derive(Debug)]
pub struct Diff {
    pub old: CompiledSide,
    pub new: CompiledSide,
    pub report: Report,
    pub classes: Vec<Class>,
}

/// Loads and compiles both sides for `options.target` and compares them.
pub fn diff(old: &Inputs, new: &Inputs, options: &CompileOptions) -> Result<Diff, Diagnostics> {
    let side = |inputs: &Inputs| -> Result<CompiledSide, Diagnostics> {
        let documents = inputs.load()?;
        let compiled = compile(&documents, options)?;
        let (resources, _) = Resources::from_documents(&documents);
        Ok(CompiledSide { compiled, resources })
    };
    let (old, new) = (side(old)?, side(new)?);
    let report = compare_compiled(&old.compiled, &new.compiled).map_err(command_line_error)?;
    let classes = classes::classify(&report);
    Ok(Diff {
        old,
        new,
        report,
        classes,
    })
}

/// Loads both programs and compares them over requests generated from both (the
/// comparison behind `diff` and behind `convert`'s proof).
pub fn compare_compiled(left: &Compiled, right: &Compiled) -> Result<Report, String> {
    let load =
        |c: &Compiled| Program::from_bytes(&c.bytes).map_err(|e| format!("cannot load a program: {e}"));
    let (a, b) = (load(left)?, load(right)?);
    Ok(compare(
        Side {
            label: "left",
            ir: &left.ir,
            program: &a,
        },
        Side {
            label: "right",
            ir: &right.ir,
            program: &b,
        },
    ))
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

/// Runs a diff and prints it; returns the exit status.
pub fn run(old: &Inputs, new: &Inputs, options: &CompileOptions, format: Format) -> i32 {
    let result = match diff(old, new, options) {
        Ok(result) => result,
        Err(diagnostics) => {
            for d in diagnostics.0.iter().filter(|d| d.severity == Severity::Error) {
                eprintln!("{d}");
            }
            return EXIT_INVALID;
        }
    };
    let old_locator = Locator::new(&result.old.resources);
    let new_locator = Locator::new(&result.new.resources);
    let labels = |label, locator| Labels {
        label,
        locator: Some(locator),
    };
    let (old_labels, new_labels) = (labels("old", &old_locator), labels("new", &new_locator));
    let report = &result.report;
    match format {
        Format::Json => {
            let value = json!({
                "target": result.new.compiled.ir.target,
                "requests": report.requests,
                "differing": report.differences.len(),
                "changed": !report.equivalent(),
                "classes": classes::render_json(&result.classes, old_labels, new_labels),
            });
            println!("{}", serde_json::to_string_pretty(&value).unwrap_or_default());
        }
        Format::Text if report.equivalent() => {}
        Format::Text => {
            let count = result.classes.len();
            println!(
                "{}: {count} {} of requests route differently ({} of {} generated requests)",
                result.new.compiled.ir.target,
                if count == 1 { "class" } else { "classes" },
                report.differences.len(),
                report.requests
            );
            print!(
                "{}",
                classes::render_text(&result.classes, old_labels, new_labels)
            );
        }
    }
    if report.equivalent() {
        EXIT_SAME
    } else {
        EXIT_CHANGED
    }
}
