//! Findings as text (people), JSON (tools) and SARIF 2.1.0 (code-scanning UIs, which
//! annotate the pull request at the file and line).

use serde_json::{Value, json};

use super::finding::{Finding, KINDS};

/// One block per finding, then a count per level.
pub fn render_text(findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        let at = if f.place.line > 0 {
            format!("{}:{}", f.place.file, f.place.line)
        } else {
            f.place.file.clone()
        };
        out.push_str(&format!(
            "{at}: {}[{}]: {}\n",
            f.level.as_str(),
            f.kind,
            f.message
        ));
        out.push_str(&format!("    target: {}\n", f.target));
        for r in &f.related {
            out.push_str(&format!("    see: {}:{} {}\n", r.file, r.line, r.what));
        }
        if let Some(w) = &f.witness {
            let mut replay = format!("--request '{}'", w.request);
            for h in &w.headers {
                replay.push_str(&format!(" -H '{h}'"));
            }
            if w.random != 0 {
                replay.push_str(&format!(" --random {}", w.random));
            }
            out.push_str(&format!("    witness: {replay}\n"));
            out.push_str(&format!("             {}\n", w.outcome));
        }
    }
    let count = |level| findings.iter().filter(|f| f.level == level).count();
    out.push_str(&format!(
        "{} errors, {} warnings, {} notes\n",
        count(super::Level::Error),
        count(super::Level::Warning),
        count(super::Level::Note)
    ));
    out
}

/// `{"findings": [...]}`.
pub fn render_json(findings: &[Finding]) -> Value {
    json!({ "findings": findings })
}

/// A SARIF 2.1.0 log with one run.
pub fn render_sarif(findings: &[Finding]) -> Value {
    let rules: Vec<Value> = KINDS
        .iter()
        .map(|k| {
            json!({
                "id": k.id,
                "shortDescription": { "text": k.summary },
                "defaultConfiguration": { "level": k.level.as_str() },
                "helpUri": "https://github.com/switchyard-dev/switchyard/blob/main/docs/analyze.md",
            })
        })
        .collect();
    let location = |file: &str, line: u32, what: &str| {
        let mut physical = json!({ "artifactLocation": { "uri": file } });
        if line > 0 {
            physical["region"] = json!({ "startLine": line });
        }
        json!({ "physicalLocation": physical, "message": { "text": what } })
    };
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let mut text = f.message.clone();
            if let Some(w) = &f.witness {
                text.push_str(&format!(" Witness: {}", w.request));
                for h in &w.headers {
                    text.push_str(&format!(" -H '{h}'"));
                }
                text.push_str(&format!(" ({}).", w.outcome));
            }
            let mut result = json!({
                "ruleId": f.kind,
                "ruleIndex": KINDS.iter().position(|k| k.id == f.kind).unwrap_or(0),
                "level": f.level.as_str(),
                "message": { "text": text },
                "locations": [location(&f.place.file, f.place.line, &f.place.what)],
                "properties": { "target": f.target },
            });
            if !f.related.is_empty() {
                result["relatedLocations"] = Value::Array(
                    f.related
                        .iter()
                        .enumerate()
                        .map(|(i, r)| {
                            let mut l = location(&r.file, r.line, &r.what);
                            l["id"] = json!(i);
                            l
                        })
                        .collect(),
                );
            }
            result
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "switchyard",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/switchyard-dev/switchyard",
                "rules": rules,
            }},
            "results": results,
        }],
    })
}
