//! Start sequence, stream order, local replies and failure handling, checked
//! with hand-written guests that log each callback.

mod guest;

use guest::{guest, messages};
use switchyard_host_harness::{Action, HttpRequest, LogLevel, VmOptions};

fn get(path: &str) -> HttpRequest {
    HttpRequest {
        headers: vec![
            (":method".into(), "GET".into()),
            (":scheme".into(), "http".into()),
            (":authority".into(), "example.com".into()),
            (":path".into(), path.into()),
        ],
        ..HttpRequest::default()
    }
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// Every callback logs its name and arguments (ids and flags as digits).
const TRACING_GUEST: &str = r#"
  (func (export "_initialize") (say "init"))
  (func (export "proxy_on_context_create") (param $id i32) (param $parent i32)
    (say "create") (call $status (local.get $id)) (call $status (local.get $parent)))
  (func (export "proxy_on_vm_start") (param $id i32) (param $len i32) (result i32)
    (say "vm_start") (call $status (local.get $len)) (i32.const 1))
  (func (export "proxy_on_configure") (param $id i32) (param $len i32) (result i32)
    (say "configure") (call $status (local.get $len)) (i32.const 1))
  (func (export "proxy_on_request_headers") (param $id i32) (param $n i32) (param $eos i32) (result i32)
    (say "request_headers") (call $status (local.get $n)) (call $status (local.get $eos)) (i32.const 0))
  (func (export "proxy_on_request_body") (param $id i32) (param $len i32) (param $eos i32) (result i32)
    (say "request_body") (call $status (local.get $len)) (call $status (local.get $eos)) (i32.const 0))
  (func (export "proxy_on_response_headers") (param $id i32) (param $n i32) (param $eos i32) (result i32)
    (say "response_headers") (call $status (local.get $n)) (call $status (local.get $eos)) (i32.const 0))
  (func (export "proxy_on_log") (param $id i32) (say "log") (call $status (local.get $id)))
  (func (export "proxy_on_done") (param $id i32) (result i32) (say "done") (i32.const 1))
  (func (export "proxy_on_delete") (param $id i32) (say "delete"))
"#;

#[test]
fn start_runs_envoys_sequence() {
    let plugin = guest(TRACING_GUEST);
    let options = VmOptions {
        vm_config: b"vm".to_vec(),
        plugin_config: b"abc".to_vec(),
        ..VmOptions::default()
    };
    let vm = plugin.start(options).unwrap();
    assert_eq!(
        messages(&vm),
        ["init", "create", "1", "0", "vm_start", "2", "configure", "3"]
    );
    assert!(vm.logs().iter().all(|l| l.level == LogLevel::Info));
}

#[test]
fn a_stream_runs_in_envoys_order_with_log_before_done() {
    let plugin = guest(TRACING_GUEST);
    let mut vm = plugin.start(VmOptions::default()).unwrap();
    vm.take_logs();
    let exchange = vm.http_request(&get("/")).unwrap();
    assert_eq!(
        messages(&vm),
        [
            "create",
            "2",
            "1",
            "request_headers",
            "4",
            "1",
            "response_headers",
            "1",
            "1",
            "log",
            "2",
            "done",
            "delete"
        ]
    );
    assert_eq!(exchange.action, Action::Continue);
    assert_eq!(exchange.upstream_request, Some(get("/").headers));
    assert_eq!(exchange.response_headers, pairs(&[(":status", "200")]));
    assert!(exchange.local_reply.is_none());
    assert!(!exchange.route_cache_cleared);

    // Context ids keep counting across streams, as Envoy's do.
    vm.take_logs();
    vm.http_request(&get("/")).unwrap();
    assert_eq!(messages(&vm)[..3], ["create", "3", "1"]);
}

#[test]
fn a_body_clears_end_of_stream_and_gets_its_own_callback() {
    let plugin = guest(TRACING_GUEST);
    let mut vm = plugin.start(VmOptions::default()).unwrap();
    vm.take_logs();
    let mut request = get("/");
    request.body = b"hello".to_vec();
    request.upstream_response = pairs(&[(":status", "201"), ("X-Up", "1")]);
    let exchange = vm.http_request(&request).unwrap();
    let log = messages(&vm);
    assert_eq!(log[3..9], ["request_headers", "4", "0", "request_body", "5", "1"]);
    assert_eq!(log[9..12], ["response_headers", "2", "1"]);
    assert_eq!(
        exchange.response_headers,
        pairs(&[(":status", "201"), ("x-up", "1")])
    );
}

#[test]
fn configure_returning_false_fails_start_with_the_plugin_log() {
    let plugin = guest(
        r#"
  (func (export "proxy_on_configure") (param $id i32) (param $len i32) (result i32)
    (drop (call $log (i32.const 4) (str "config rejected: expected bytecode")))
    (i32.const 0))
"#,
    );
    let err = plugin.start(VmOptions::default()).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("proxy_on_configure returned false"), "{text}");
    assert!(text.contains("config rejected: expected bytecode"), "{text}");
}

#[test]
fn reconfigure_passes_the_new_configuration() {
    let plugin = guest(
        r#"
  (func (export "proxy_on_configure") (param $id i32) (param $len i32) (result i32)
    (call $status (call $get_buffer (i32.const 7) (i32.const 0) (local.get $len)
                                    (global.get $RET_PTR) (global.get $RET_LEN)))
    (call $say_ret)
    (i32.ne (local.get $len) (i32.const 3)))
"#,
    );
    let options = VmOptions {
        plugin_config: b"first".to_vec(),
        ..VmOptions::default()
    };
    let mut vm = plugin.start(options).unwrap();
    assert_eq!(messages(&vm), ["0", "first"]);
    vm.take_logs();
    assert!(!vm.reconfigure(b"bad").unwrap());
    assert!(vm.reconfigure(b"second").unwrap());
    assert_eq!(messages(&vm), ["0", "bad", "0", "second"]);
}

#[test]
fn local_reply_is_deferred_and_passes_through_response_headers() {
    let plugin = guest(
        r#"
  ;; One header map: ("Location", "/new").
  (data (i32.const 3000) "\01\00\00\00\08\00\00\00\04\00\00\00Location\00/new\00")
  (func (export "proxy_on_request_headers") (param $id i32) (param $n i32) (param $eos i32) (result i32)
    (call $status (call $local_response (i32.const 301) (str "moved here") (str "gone")
                                         (i32.const 3000) (i32.const 26) (i32.const -1)))
    (say "after send")
    (i32.const 0))
  (func (export "proxy_on_response_headers") (param $id i32) (param $n i32) (param $eos i32) (result i32)
    (say "response_headers") (call $status (local.get $n)) (call $status (local.get $eos))
    ;; Envoy still holds the request headers while it sends the reply.
    (call $status (call $get_value (i32.const 0) (str ":path") (global.get $RET_PTR) (global.get $RET_LEN)))
    (call $status (call $add_value (i32.const 2) (str "x-filter") (str "seen")))
    (i32.const 0))
"#,
    );
    let mut vm = plugin.start(VmOptions::default()).unwrap();
    let exchange = vm.http_request(&get("/old")).unwrap();
    assert_eq!(
        messages(&vm),
        ["0", "after send", "response_headers", "4", "0", "0", "0"]
    );
    let reply = exchange.local_reply.unwrap();
    assert_eq!(reply.status, 301);
    assert_eq!(reply.headers, pairs(&[("location", "/new")]));
    assert_eq!(reply.body, b"gone");
    assert_eq!(reply.details, "moved_here");
    assert_eq!(reply.grpc_status, -1);
    assert_eq!(exchange.upstream_request, None);
    assert_eq!(
        exchange.response_headers,
        pairs(&[
            (":status", "301"),
            ("location", "/new"),
            ("content-length", "4"),
            ("content-type", "text/plain"),
            ("x-filter", "seen"),
        ])
    );
    assert_eq!(exchange.response_action, Some(Action::Continue));
}

#[test]
fn a_paused_request_is_not_forwarded_and_still_torn_down() {
    let plugin = guest(
        r#"
  (func (export "proxy_on_request_headers") (param $id i32) (param $n i32) (param $eos i32) (result i32)
    (i32.const 1))
  (func (export "proxy_on_response_headers") (param $id i32) (param $n i32) (param $eos i32) (result i32)
    (say "response_headers") (i32.const 0))
  (func (export "proxy_on_delete") (param $id i32) (say "delete"))
"#,
    );
    let mut vm = plugin.start(VmOptions::default()).unwrap();
    let exchange = vm.http_request(&get("/")).unwrap();
    assert_eq!(exchange.action, Action::Pause);
    assert_eq!(exchange.upstream_request, None);
    assert!(exchange.response_headers.is_empty());
    assert_eq!(exchange.response_action, None);
    assert_eq!(messages(&vm), ["delete"]);
}

#[test]
fn a_trap_is_an_error_with_the_log_and_fails_the_vm() {
    let plugin = guest(
        r#"
  (func (export "proxy_on_request_headers") (param $id i32) (param $n i32) (param $eos i32) (result i32)
    (drop (call $log (i32.const 5) (str "panicked at src/lib.rs:1:1")))
    unreachable)
"#,
    );
    let mut vm = plugin.start(VmOptions::default()).unwrap();
    let err = vm.http_request(&get("/")).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("proxy_on_request_headers trapped"), "{text}");
    assert!(text.contains("unreachable"), "{text}");
    assert!(text.contains("[Critical] panicked at src/lib.rs:1:1"), "{text}");
    assert!(vm.is_failed());
    let again = vm.http_request(&get("/")).unwrap_err().to_string();
    assert!(again.contains("failed earlier"), "{again}");
}

#[test]
fn a_trap_during_start_is_an_error() {
    let plugin = guest(r#"(func (export "_initialize") (say "booting") unreachable)"#);
    let text = plugin.start(VmOptions::default()).unwrap_err().to_string();
    assert!(text.contains("_initialize trapped"), "{text}");
    assert!(text.contains("booting"), "{text}");
}

#[test]
fn proc_exit_and_unimplemented_imports_trap() {
    let plugin = guest(
        r#"
  (func (export "proxy_on_vm_start") (param $id i32) (param $len i32) (result i32)
    (call $proc_exit (i32.const 3)) (i32.const 1))
"#,
    );
    let text = format!("{:#}", plugin.start(VmOptions::default()).unwrap_err());
    assert!(text.contains("proc_exit(3)"), "{text}");

    let plugin = guest(
        r#"
  (func (export "proxy_on_vm_start") (param $id i32) (param $len i32) (result i32)
    (drop (call $http_call (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)
                           (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)))
    (i32.const 1))
"#,
    );
    let text = format!("{:#}", plugin.start(VmOptions::default()).unwrap_err());
    assert!(text.contains("proxy_http_call"), "{text}");
}

#[test]
fn fuel_is_metered_when_asked_for_and_runs_out() {
    let plugin = guest(TRACING_GUEST);
    let unmetered = plugin.start(VmOptions::default()).unwrap();
    assert_eq!(unmetered.fuel_consumed(), None);

    let options = VmOptions {
        fuel: Some(1_000_000),
        ..VmOptions::default()
    };
    let mut vm = plugin.start(options.clone()).unwrap();
    let after_start = vm.fuel_consumed().unwrap();
    assert!(after_start > 0);
    vm.http_request(&get("/")).unwrap();
    let after_request = vm.fuel_consumed().unwrap();
    assert!(after_request > after_start);
    // Deterministic: a second VM spends exactly the same.
    let mut twin = plugin.start(options).unwrap();
    twin.http_request(&get("/")).unwrap();
    assert_eq!(twin.fuel_consumed(), Some(after_request));

    let starved = VmOptions {
        fuel: Some(10),
        ..VmOptions::default()
    };
    let text = format!("{:#}", plugin.start(starved).unwrap_err());
    assert!(text.contains("fuel"), "{text}");
}

#[test]
fn vms_share_nothing() {
    let plugin = guest(
        r#"
  (global $count (mut i32) (i32.const 0))
  (func (export "proxy_on_request_headers") (param $id i32) (param $n i32) (param $eos i32) (result i32)
    (global.set $count (i32.add (global.get $count) (i32.const 1)))
    (call $status (global.get $count))
    (i32.const 0))
"#,
    );
    let mut a = plugin.start(VmOptions::default()).unwrap();
    let mut b = plugin.clone().start(VmOptions::default()).unwrap();
    a.http_request(&get("/")).unwrap();
    a.http_request(&get("/")).unwrap();
    b.http_request(&get("/")).unwrap();
    assert_eq!(messages(&a), ["1", "2"]);
    assert_eq!(messages(&b), ["1"]);
}

#[test]
fn a_module_without_the_abi_marker_is_refused() {
    let wasm = wat::parse_str(r#"(module (memory (export "memory") 1))"#).unwrap();
    let err = switchyard_host_harness::Plugin::from_bytes(&wasm).unwrap_err();
    assert!(err.to_string().contains("proxy_abi_version_0_2_1"), "{err}");
}

#[test]
fn malloc_is_preferred_over_proxy_on_memory_allocate() {
    let plugin = guest(
        r#"
  (func (export "malloc") (param $size i32) (result i32)
    (say "malloc")
    (call $allocs_bump (local.get $size)))
  (func $allocs_bump (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get $size)))
    (local.get $p))
  (func (export "proxy_on_request_headers") (param $id i32) (param $n i32) (param $eos i32) (result i32)
    (call $status (call $get_value (i32.const 0) (str ":path") (global.get $RET_PTR) (global.get $RET_LEN)))
    (call $say_ret)
    (call $status (call $allocs))
    (i32.const 0))
"#,
    );
    let mut vm = plugin.start(VmOptions::default()).unwrap();
    vm.http_request(&get("/m")).unwrap();
    assert_eq!(messages(&vm), ["malloc", "0", "/m", "0"]);
}
