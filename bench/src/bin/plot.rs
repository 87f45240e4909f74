//! Draws how cost grows with the number of rules, from the results `compile-bench` and
//! `wasm-bench` left in `target/bench/results/`, as one SVG (no dependencies):
//!
//!     cargo run --release -p switchyard-bench --bin plot [-- --out bench/growth.svg]
//!
//! Left: per-request evaluation (median over early, middle, late and miss) natively and
//! as Wasm, in both configuration forms with the default spread of hosts. Right: compile
//! time and peak memory. Both axes are logarithmic: a flat line is a cost that does not
//! grow with the number of rules; a line parallel to the diagonal grows linearly.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::Value;
use switchyard_bench::configs::{self, median};

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 440.0;
const PANEL: f64 = WIDTH / 2.0;
const MARGIN: (f64, f64, f64, f64) = (70.0, 20.0, 40.0, 90.0); // left, right, top, bottom

struct Series {
    name: String,
    color: &'static str,
    dashed: bool,
    points: Vec<(f64, f64)>,
}

fn main() -> ExitCode {
    match run() {
        Ok(path) => {
            eprintln!("plot: wrote {}", path.display());
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("plot: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<PathBuf, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = match args.as_slice() {
        [] => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("growth.svg"),
        [flag, path] if flag == "--out" => PathBuf::from(path),
        _ => return Err("usage: plot [--out FILE.svg]".into()),
    };
    let results = configs::work_dir().join("results");
    let read = |name: &str| -> Result<Value, String> {
        let path = results.join(name);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("{}: {e} (run compile-bench and wasm-bench first)", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    };
    let compile = read("compile.json")?;
    let plugin = read("plugin.json")?;
    let spread = |row: &Value| row["layout"].as_str().is_some_and(|l| l != "1 host");
    let mut left = Vec::new();
    for (form, color) in [("gateway-api", "#1f77b4"), ("istio", "#d62728")] {
        for (field, label, dashed) in [("native_ns", "native", false), ("wasm_eval_ns", "Wasm", true)] {
            let mut points = Vec::new();
            for rules in configs::SIZES {
                let mut values: Vec<f64> = plugin["requests"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|r| r["form"] == form && r["rules"] == rules && spread(r))
                    .filter_map(|r| r[field].as_f64())
                    .collect();
                if !values.is_empty() {
                    points.push((rules as f64, median(&mut values)));
                }
            }
            left.push(Series {
                name: format!("{form} {label}"),
                color,
                dashed,
                points,
            });
        }
    }
    let mut right = Vec::new();
    for (form, color) in [("gateway-api", "#1f77b4"), ("istio", "#d62728")] {
        for (field, label, dashed) in [
            ("compile_ms_median", "compile ms", false),
            ("peak_mib", "peak MiB", true),
        ] {
            let points = compile
                .as_array()
                .into_iter()
                .flatten()
                .filter(|r| r["form"] == form && spread(r))
                .filter_map(|r| Some((r["rules"].as_f64()?, r[field].as_f64()?)))
                .collect();
            right.push(Series {
                name: format!("{form} {label}"),
                color,
                dashed,
                points,
            });
        }
    }
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>"#);
    panel(
        &mut svg,
        0.0,
        "Evaluation per request (ns, median of 4 requests)",
        &left,
    );
    panel(
        &mut svg,
        PANEL,
        "Compile: wall time (ms) and peak memory (MiB)",
        &right,
    );
    svg.push_str("</svg>\n");
    std::fs::write(&out, svg).map_err(|e| format!("{}: {e}", out.display()))?;
    Ok(out)
}

/// One log-log panel at horizontal offset `x0`.
fn panel(svg: &mut String, x0: f64, title: &str, series: &[Series]) {
    let (left, right, top, bottom) = MARGIN;
    let (plot_w, plot_h) = (PANEL - left - right, HEIGHT - top - bottom);
    let ys: Vec<f64> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .filter(|y| *y > 0.0)
        .collect();
    let (mut y_min, mut y_max) = (
        ys.iter().copied().fold(f64::INFINITY, f64::min),
        ys.iter().copied().fold(0.0, f64::max),
    );
    if ys.is_empty() {
        (y_min, y_max) = (1.0, 10.0);
    }
    let (y_lo, y_hi) = (
        y_min.log10().floor(),
        y_max.log10().ceil().max(y_min.log10().floor() + 1.0),
    );
    let (x_lo, x_hi) = (2.0, 5.0);
    let px = |x: f64| x0 + left + (x.log10() - x_lo) / (x_hi - x_lo) * plot_w;
    let py = |y: f64| top + plot_h - (y.log10() - y_lo) / (y_hi - y_lo) * plot_h;
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="20" font-weight="bold">{title}</text>"#,
        x0 + left
    );
    for decade in (y_lo as i32)..=(y_hi as i32) {
        let y = py(10f64.powi(decade));
        let _ = writeln!(
            svg,
            r##"<line x1="{}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            x0 + left,
            x0 + left + plot_w,
            x0 + left - 6.0,
            y + 4.0,
            label(10f64.powi(decade))
        );
    }
    for rules in configs::SIZES {
        let x = px(rules as f64);
        let _ = writeln!(
            svg,
            r##"<line x1="{x:.1}" x2="{x:.1}" y1="{top}" y2="{}" stroke="#ddd"/><text x="{x:.1}" y="{}" text-anchor="middle">{}</text>"##,
            top + plot_h,
            top + plot_h + 16.0,
            label(rules as f64)
        );
    }
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">rules</text>"#,
        x0 + left + plot_w / 2.0,
        top + plot_h + 34.0
    );
    for (i, s) in series.iter().enumerate() {
        let points: Vec<String> = s
            .points
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", px(x), py(y)))
            .collect();
        let dash = if s.dashed {
            r#" stroke-dasharray="6 4""#
        } else {
            ""
        };
        let _ = writeln!(
            svg,
            r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="2"{dash}/>"#,
            points.join(" "),
            s.color
        );
        for &(x, y) in &s.points {
            let _ = writeln!(
                svg,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{}"/>"#,
                px(x),
                py(y),
                s.color
            );
        }
        let ly = top + plot_h + 52.0 + (i / 2) as f64 * 16.0;
        let lx = x0 + left + (i % 2) as f64 * plot_w / 2.0;
        let _ = writeln!(
            svg,
            r#"<line x1="{lx:.1}" x2="{:.1}" y1="{ly:.1}" y2="{ly:.1}" stroke="{}" stroke-width="2"{dash}/><text x="{:.1}" y="{:.1}" font-size="10">{}</text>"#,
            lx + 14.0,
            s.color,
            lx + 17.0,
            ly + 4.0,
            s.name
        );
    }
}

fn label(value: f64) -> String {
    if value >= 1000.0 {
        let k = value / 1000.0;
        if k >= 1000.0 {
            format!("{}M", k / 1000.0)
        } else {
            format!("{k}k")
        }
    } else {
        format!("{value}")
    }
}
