//! The plain data that goes into and comes out of the harness.

/// How a VM is started: the bytes Envoy would hand the plugin, plus the
/// knobs that make a run deterministic (time, randomness, fuel).
#[derive(Default, Clone, Debug)]
pub struct VmOptions {
    /// `configuration` of the filter: read by the guest with
    /// `proxy_get_buffer_bytes(PLUGIN_CONFIGURATION)` during `on_configure`.
    pub plugin_config: Vec<u8>,
    /// `vm_config.configuration`: buffer type 6, available at any time.
    pub vm_config: Vec<u8>,
    /// Envoy's `root_id`; also served as the `plugin_root_id` property.
    pub root_id: String,
    /// What `proxy_get_current_time_nanoseconds` and WASI `clock_time_get`
    /// return (nanoseconds since the Unix epoch).
    pub now_nanos: u64,
    /// Seed of the generator behind WASI `random_get`.
    pub random_seed: u64,
    /// Properties for `proxy_get_property`, keyed by the path with its
    /// segments joined by `.` (e.g. `request.id`); values are raw bytes.
    pub properties: Vec<(String, Vec<u8>)>,
    /// Fuel for the whole VM lifetime; `Some` turns on metering so
    /// [`crate::Vm::fuel_consumed`] reports a deterministic cost.
    pub fuel: Option<u64>,
}

/// One client request, and the upstream's answer if it gets that far.
#[derive(Clone, Debug, Default)]
pub struct HttpRequest {
    /// Includes `:method`, `:scheme`, `:authority`, `:path`, in order.
    /// Names are lowercased on the way in, as Envoy's codecs do.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The upstream response headers; `[(":status", "200")]` when empty.
    pub upstream_response: Vec<(String, String)>,
}

/// What a headers callback returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Continue,
    /// Any stop status: Envoy turns it into `StopAllIterationAndWatermark`
    /// and the stream waits for `proxy_continue_stream`, which never comes
    /// in the harness.
    Pause,
}

impl Action {
    pub(crate) fn from_raw(raw: u32) -> Action {
        if raw == crate::abi::action::CONTINUE {
            Action::Continue
        } else {
            Action::Pause
        }
    }
}

/// The outcome of [`crate::Vm::http_request`].
#[derive(Clone, Debug)]
pub struct HttpExchange {
    /// What `on_request_headers` returned (Envoy ignores it once a local
    /// reply was sent).
    pub action: Action,
    /// Set if the guest called `proxy_send_local_response` (the first call
    /// wins).
    pub local_reply: Option<LocalReply>,
    /// The request headers as they would be forwarded upstream; `None` when
    /// a local reply was sent or the request was paused.
    pub upstream_request: Option<Vec<(String, String)>>,
    /// What the client receives: the upstream response after
    /// `on_response_headers`, or the local reply's headers (which Envoy also
    /// passes through `on_response_headers`); empty if the stream stalled.
    pub response_headers: Vec<(String, String)>,
    /// What `on_response_headers` returned, if it ran.
    pub response_action: Option<Action>,
    /// A request-header mutation (ABI 0.2.1 clears Envoy's route cache on
    /// each) or a call of the `clear_route_cache` foreign function happened.
    pub route_cache_cleared: bool,
    /// How many request-header mutations the guest made: each is a host call, which
    /// costs Envoy about a microsecond, so tests can pin how few a request needs.
    pub request_header_writes: u32,
}

/// A `proxy_send_local_response` call, as the guest made it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalReply {
    pub status: u16,
    /// The additional headers, names lowercased as Envoy does.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Whitespace replaced by `_`, as Envoy records response code details.
    pub details: String,
    /// `-1` (the SDK's default) means no gRPC status.
    pub grpc_status: i32,
}

/// `proxy_log_level_t`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    Critical,
}

impl LogLevel {
    pub(crate) fn from_raw(raw: u32) -> Option<LogLevel> {
        Some(match raw {
            0 => LogLevel::Trace,
            1 => LogLevel::Debug,
            2 => LogLevel::Info,
            3 => LogLevel::Warn,
            4 => LogLevel::Error,
            5 => LogLevel::Critical,
            _ => return None,
        })
    }
}

/// One line the plugin logged, through `proxy_log` or WASI stdout/stderr
/// (stdout lines are `Info`, stderr lines `Error`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    pub level: LogLevel,
    pub message: String,
}

impl std::fmt::Display for LogLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{:?}] {}", self.level, self.message)
    }
}

/// `proxy_metric_type_t`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MetricKind {
    Counter,
    Gauge,
    Histogram,
}

/// A metric the guest defined, with its current state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metric {
    pub name: String,
    pub kind: MetricKind,
    /// Counter total or gauge level; for a histogram, the number of samples.
    pub value: u64,
    /// Every value recorded into a histogram, in order (empty otherwise).
    pub samples: Vec<u64>,
}
