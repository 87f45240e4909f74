//! Switchyard's proxy-wasm filter.
//!
//! The root context loads the program from the plugin configuration (refusing a bad one
//! with one log line and keeping the previous program); each HTTP context evaluates the
//! request's headers against it and then either names the upstream cluster in the
//! routing header, so that Envoy re-matches its route and sends the request there, or
//! answers locally. The routing header is always overwritten, so a client can never pick
//! its own backend.

pub mod config;
pub mod envoy;
mod filter;
mod header_map;
mod metrics;
mod random;

use std::cell::RefCell;
use std::rc::Rc;

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{ContextType, LogLevel};
use switchyard_bytecode::{Program, Scratch};

use crate::filter::Filter;
use crate::metrics::RuleCounters;
use crate::random::Random;

// No `proxy_wasm::set_log_level`: the plugin logs through `hostcalls::log` directly,
// and the SDK's logger and panic hook cost about 1.9 KB of module. A panic (none is
// expected: every input path returns errors) still reaches Envoy's log, through std's
// own hook writing to stderr.
proxy_wasm::main! {{
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(Root::default()) });
}}

/// State shared by every request of one VM (a VM runs on one thread).
#[derive(Debug)]
pub(crate) struct Shared {
    pub scratch: Scratch,
    pub random: Random,
    pub counters: RuleCounters,
}

#[derive(Default)]
struct Root {
    program: Option<Rc<Program>>,
    /// The request header that asks for a trace, when the configuration enables it.
    trace_header: Option<Rc<str>>,
    /// The program's second routing header (`switchyard_bytecode::default_retry_header`),
    /// named once per program rather than per request.
    default_retry_header: Rc<str>,
    shared: Option<Rc<RefCell<Shared>>>,
}

impl Context for Root {}

impl RootContext for Root {
    fn on_configure(&mut self, _config_size: usize) -> bool {
        let config = self.get_plugin_configuration().unwrap_or_default();
        let loaded = config::parse_config(&config)
            .map_err(|e| e.to_string())
            .and_then(|config| {
                Program::from_bytes(&config.program)
                    .map(|program| (program, config.trace_header))
                    .map_err(|e| e.to_string())
            });
        match loaded {
            Ok((program, trace_header)) => {
                proxy_wasm::hostcalls::log(
                    LogLevel::Info,
                    &format!(
                        "switchyard: loaded {} ({} entries)",
                        program.target(),
                        program.entry_count()
                    ),
                )
                .ok();
                if let Some(shared) = &self.shared {
                    // New entries, new counters.
                    shared.borrow_mut().counters = RuleCounters::for_program(&program);
                }
                self.default_retry_header = Rc::from(switchyard_bytecode::default_retry_header(
                    program.routing_header(),
                ));
                self.program = Some(Rc::new(program));
                self.trace_header = trace_header.map(Rc::from);
                true
            }
            Err(reason) => {
                let kept = if self.program.is_some() {
                    "; keeping the previous program"
                } else {
                    ""
                };
                proxy_wasm::hostcalls::log(
                    LogLevel::Error,
                    &format!("switchyard: configuration refused: {reason}{kept}"),
                )
                .ok();
                false
            }
        }
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        let shared = self.shared.clone()?;
        Some(Box::new(Filter::new(
            self.program.clone(),
            self.trace_header.clone(),
            self.default_retry_header.clone(),
            shared,
        )))
    }

    fn on_vm_start(&mut self, _vm_configuration_size: usize) -> bool {
        let seed = self
            .get_current_time()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        self.shared = Some(Rc::new(RefCell::new(Shared {
            scratch: Scratch::new(),
            random: Random::seeded(seed),
            counters: RuleCounters::default(),
        })));
        true
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}
