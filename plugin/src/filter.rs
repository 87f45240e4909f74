//! One HTTP stream: read what the program needs, evaluate, act.

use std::cell::RefCell;
use std::rc::Rc;

use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::Action;
use switchyard_bytecode::{Outcome, Program, Request};

use crate::Shared;

/// Envoy's property path for the listener port of the request (an i64, little-endian).
const DESTINATION_PORT: [&str; 2] = ["destination", "port"];

pub(crate) struct Filter {
    program: Option<Rc<Program>>,
    shared: Rc<RefCell<Shared>>,
}

impl Filter {
    pub fn new(program: Option<Rc<Program>>, shared: Rc<RefCell<Shared>>) -> Self {
        Filter { program, shared }
    }

    /// The listener port: read from Envoy only when the program has several listeners.
    fn listener_port(&self, program: &Program) -> u32 {
        let mut ports = program.listener_ports();
        match (ports.next(), ports.next()) {
            (Some(only), None) => only,
            _ => self
                .get_property(DESTINATION_PORT.to_vec())
                .and_then(|bytes| bytes.get(..8).and_then(|b| b.try_into().ok()))
                .map_or(0, |b: [u8; 8]| i64::from_le_bytes(b) as u32),
        }
    }
}

impl Context for Filter {}

impl HttpContext for Filter {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let Some(program) = self.program.clone() else {
            // Without a program nothing may be forwarded on a client's say-so.
            self.send_http_response(500, vec![("x-switchyard-error", "no-program")], None);
            return Action::Pause;
        };
        let method = self.get_http_request_header(":method").unwrap_or_default();
        let path = self.get_http_request_header(":path").unwrap_or_default();
        let authority = self.get_http_request_header(":authority").unwrap_or_default();
        // Fetch the header map only when some predicate reads a header.
        let headers = if program.needs_headers() {
            self.get_http_request_headers()
        } else {
            Vec::new()
        };
        let port = self.listener_port(&program);
        let mut shared = self.shared.borrow_mut();
        let Shared { scratch, random } = &mut *shared;
        let request = Request {
            port,
            authority: &authority,
            method: &method,
            path: &path,
            headers: &headers,
            random: random.next_u64(),
        };
        match program.evaluate(&request, scratch).outcome {
            Outcome::Forward { cluster, .. } => {
                // Replacing removes every value the client may have sent.
                self.set_http_request_header(program.routing_header(), Some(cluster));
                Action::Continue
            }
            Outcome::Reply { status, body, .. } => {
                self.send_http_response(u32::from(status), vec![], body.map(str::as_bytes));
                Action::Pause
            }
        }
    }
}
