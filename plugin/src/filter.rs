//! One HTTP stream: read what the program needs, evaluate, plan, act.

use std::cell::RefCell;
use std::rc::Rc;

use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::Action;
use switchyard_bytecode::{
    HeaderEdit, HeaderOp, Headers, ISTIO_DEFAULT_RETRY, Plan, Program, Request, Trace,
};

use crate::Shared;
use crate::envoy;
use crate::header_map::RawMap;

/// Envoy's property path for the listener port of the request (an i64, little-endian).
const DESTINATION_PORT: [&str; 2] = ["destination", "port"];
/// Envoy's property path for the TLS server name the client sent (empty on plaintext).
const REQUESTED_SERVER_NAME: [&str; 2] = ["connection", "requested_server_name"];

pub(crate) struct Filter {
    program: Option<Rc<Program>>,
    trace_header: Option<Rc<str>>,
    default_retry_header: Rc<str>,
    shared: Rc<RefCell<Shared>>,
    /// Response header edits of the winning rule, owned until the response passes.
    response_edits: Vec<(HeaderEdit, String, String)>,
}

impl Filter {
    pub fn new(
        program: Option<Rc<Program>>,
        trace_header: Option<Rc<str>>,
        default_retry_header: Rc<str>,
        shared: Rc<RefCell<Shared>>,
    ) -> Self {
        Filter {
            program,
            trace_header,
            default_retry_header,
            shared,
            response_edits: Vec::new(),
        }
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

    /// Answers 500 naming what went wrong: nothing may be forwarded without a decision.
    fn refuse(&self, what: &str) -> Action {
        self.send_http_response(500, vec![("x-switchyard-error", what)], None);
        Action::Pause
    }

    fn edit_request_header(&self, op: &HeaderOp<'_>) {
        match op.edit {
            HeaderEdit::Set => self.set_http_request_header(op.name, Some(&op.value)),
            HeaderEdit::Add => self.add_http_request_header(op.name, &op.value),
            HeaderEdit::Remove => self.set_http_request_header(op.name, None),
        }
    }

    /// Whether the request's retry policy is Istio's default, which the routing route
    /// keyed on the second routing header carries as its own.
    fn default_retry(program: &Program, plan: &Plan<'_>) -> bool {
        program.features().retries && plan.retry == Some(ISTIO_DEFAULT_RETRY)
    }

    /// Sets the headers Envoy's router reads for the controls the program uses, and
    /// clears them when this request has none, so a client can never set them. A control
    /// the client did not send needs no clearing, which saves a host call each.
    fn set_router_controls(
        &self,
        program: &Program,
        plan: &Plan<'_>,
        sent: Headers<'_>,
        default_retry: bool,
    ) {
        let control = |name: &str, value: Option<&str>| {
            if value.is_some() || sent.contains(name) {
                self.set_http_request_header(name, value);
            }
        };
        let features = program.features();
        if features.timeouts {
            // The routing route's own timeout is 0s, disabled, and it has no per-try
            // timeout (`routing_route` in the compiler's emit/envoy.rs): a disabled
            // timeout, Istio's default, needs no header.
            let timeout = plan
                .request_timeout_ms
                .filter(|&ms| ms != 0)
                .map(|ms| ms.to_string());
            control(envoy::REQUEST_TIMEOUT, timeout.as_deref());
            let per_try = plan
                .backend_timeout_ms
                .filter(|&ms| ms != 0)
                .map(|ms| ms.to_string());
            control(envoy::PER_TRY_TIMEOUT, per_try.as_deref());
        }
        // Istio's default retry policy is the own policy of the routing route keyed on the
        // second routing header: such a request names its cluster there (see
        // `on_http_request_headers`) and needs no retry header. Any other takes the route
        // without a policy and brings its own in full.
        if features.retries {
            let retry = plan.retry.as_ref().filter(|_| !default_retry);
            let attempts = retry.map(|r| r.attempts.to_string());
            let (http, grpc) = retry.map(|r| envoy::split_retry_on(r.retry_on)).unzip();
            let present = |list: Option<String>| list.filter(|l| !l.is_empty());
            let (http, grpc) = (present(http), present(grpc));
            control(envoy::MAX_RETRIES, attempts.as_deref());
            control(envoy::RETRY_ON, http.as_deref());
            control(envoy::RETRY_GRPC_ON, grpc.as_deref());
            control(envoy::RETRIABLE_CODES, retry.and_then(|r| r.codes));
        }
        if features.delays {
            let delay = plan.delay_ms.map(|ms| ms.to_string());
            control(envoy::FAULT_DELAY, delay.as_deref());
        }
        for slot in 0..features.max_mirrors as usize {
            let name = envoy::mirror_header(program.routing_header(), slot);
            control(&name, plan.mirrors.get(slot).map(|m| m.cluster));
        }
    }
}

impl Context for Filter {}

impl HttpContext for Filter {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let Some(program) = self.program.clone() else {
            // Without a program nothing may be forwarded on a client's say-so.
            return self.refuse("no-program");
        };
        // One host call for the whole header map, the request line included (Envoy's map
        // holds the pseudo-headers), parsed in place: every host call and every copy
        // costs Envoy CPU on each request.
        let raw = match RawMap::request_headers() {
            Ok(raw) => raw,
            Err(_) => return self.refuse("header-map"),
        };
        let Some(pairs) = raw.pairs() else {
            return self.refuse("header-map");
        };
        let headers = pairs.headers();
        let method = pairs.value(":method");
        let path = pairs.value(":path");
        let authority = pairs.value(":authority");
        let scheme = if program.features().scheme {
            pairs.value(":scheme")
        } else {
            ""
        };
        let port = self.listener_port(&program);
        // The SNI only for programs that check misdirected requests.
        let sni = if program.features().sni {
            self.get_property(REQUESTED_SERVER_NAME.to_vec())
                .and_then(|bytes| String::from_utf8(bytes).ok())
        } else {
            None
        };
        let mut shared = self.shared.borrow_mut();
        let Shared {
            scratch,
            random,
            counters,
        } = &mut *shared;
        let request = Request {
            port,
            authority,
            method,
            path,
            scheme,
            headers,
            random: random.next_u64(),
            sni: sni.as_deref(),
        };
        // A trace only when the configuration names a header and the request has it.
        let traced = self
            .trace_header
            .as_deref()
            .is_some_and(|name| headers.contains(name));
        // One evaluator for both: `None` observes nothing.
        let mut trace = traced.then(Trace::default);
        let decision = program.evaluate_observed(&request, scratch, &mut trace);
        if let Some(entry) = decision.entry {
            counters.hit(&program, entry);
        }
        let plan = program.plan(&decision, &request);
        self.response_edits = plan
            .response_headers
            .iter()
            .map(|op| (op.edit, op.name.to_string(), op.value.to_string()))
            .collect();
        if let (Some(trace), Some(name)) = (&trace, &self.trace_header) {
            let line = program.trace_line(trace, &decision);
            self.response_edits
                .push((HeaderEdit::Set, name.to_string(), line));
        }
        if let Some(reply) = &plan.reply {
            let headers: Vec<(&str, &str)> = reply.headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
            self.send_http_response(u32::from(reply.status), headers, reply.body.map(str::as_bytes));
            return Action::Pause;
        }
        for op in &plan.request_headers {
            self.edit_request_header(op);
        }
        if let Some(authority) = &plan.authority {
            self.set_http_request_header(":authority", Some(authority));
        }
        if let Some(path) = &plan.path {
            self.set_http_request_header(":path", Some(path));
        }
        let default_retry = Self::default_retry(&program, &plan);
        self.set_router_controls(&program, &plan, headers, default_retry);
        // One of the two routing headers names the cluster (which one picks the routing
        // route, see `default_retry`); replacing removes every value the client sent, and
        // a client's value of the other one is removed too.
        let (named, other) = if default_retry {
            (&*self.default_retry_header, program.routing_header())
        } else {
            (program.routing_header(), &*self.default_retry_header)
        };
        if headers.contains(other) {
            self.set_http_request_header(other, None);
        }
        self.set_http_request_header(named, plan.cluster);
        Action::Continue
    }

    /// Applies the winning rule's response edits, to the upstream's answer and to the
    /// proxy's own replies alike (both pass through here).
    fn on_http_response_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        for (edit, name, value) in &self.response_edits {
            match edit {
                HeaderEdit::Set => self.set_http_response_header(name, Some(value)),
                HeaderEdit::Add => self.add_http_response_header(name, value),
                HeaderEdit::Remove => self.set_http_response_header(name, None),
            }
        }
        Action::Continue
    }
}
