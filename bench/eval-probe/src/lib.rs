//! The evaluator alone, as Wasm. Configuration: 4 bytes (little-endian) of an
//! iteration count, then a program. Each request's headers are read once, then the
//! request is evaluated that many times; the winning cluster (or `404`) is put in the
//! request header `x-probe-decision` so that the benchmark can check the decision.
//!
//! `wasm-bench` runs a request with N iterations and with none: the difference over N is
//! the cost of one evaluation as Wasm, without the proxy-wasm exchange around it.
//!
//! Build: `cargo build -p switchyard-eval-probe --target wasm32-wasip1 --profile wasm`.

use std::hint::black_box;
use std::rc::Rc;

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType, LogLevel};
use switchyard_bytecode::{Outcome, Program, Request, Scratch};

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Info);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(Root::default()) });
}}

#[derive(Default)]
struct Root {
    loaded: Option<Rc<(Program, u32)>>,
}

impl Context for Root {}

impl RootContext for Root {
    fn on_configure(&mut self, _config_size: usize) -> bool {
        let config = self.get_plugin_configuration().unwrap_or_default();
        let Some((count, program)) = config.split_first_chunk::<4>() else {
            return false;
        };
        match Program::from_bytes(program) {
            Ok(program) => {
                self.loaded = Some(Rc::new((program, u32::from_le_bytes(*count))));
                true
            }
            Err(_) => false,
        }
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Probe {
            loaded: self.loaded.clone()?,
        }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct Probe {
    loaded: Rc<(Program, u32)>,
}

impl Context for Probe {}

impl HttpContext for Probe {
    fn on_http_request_headers(&mut self, _headers: usize, _end_of_stream: bool) -> Action {
        let (program, iterations) = &*self.loaded;
        let headers = self.get_http_request_headers();
        let pseudo = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map_or("", |(_, v)| v.as_str())
        };
        let request = Request {
            port: program.listener_ports().next().unwrap_or(80),
            authority: pseudo(":authority"),
            method: pseudo(":method"),
            path: pseudo(":path"),
            scheme: "http",
            headers: (&headers).into(),
            random: 0x9E37_79B9_7F4A_7C15,
            sni: None,
        };
        let mut scratch = Scratch::new();
        let mut decision = program.evaluate(&request, &mut scratch);
        for _ in 0..*iterations {
            decision = program.evaluate(black_box(&request), &mut scratch);
        }
        let text = match decision.outcome {
            Outcome::Forward { cluster, .. } => cluster.to_string(),
            Outcome::Reply { status, .. } | Outcome::Redirect { status, .. } => status.to_string(),
            Outcome::Pass => "pass".to_string(),
        };
        self.set_http_request_header("x-probe-decision", Some(&text));
        Action::Continue
    }
}
