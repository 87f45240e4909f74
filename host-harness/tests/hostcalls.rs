//! Each hostcall's statuses and effects, seen from a hand-written guest that
//! logs what it gets back (status codes as one digit: OK "0", NOT_FOUND "1",
//! BAD_ARGUMENT "2", INVALID_MEMORY_ACCESS "6").

mod guest;

use guest::{guest, messages};
use switchyard_host_harness::{HttpRequest, LogLevel, MetricKind, VmOptions};

fn request(headers: &[(&str, &str)]) -> HttpRequest {
    HttpRequest {
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..HttpRequest::default()
    }
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn on_request_headers(body: &str) -> String {
    format!(
        r#"(func (export "proxy_on_request_headers") (param $id i32) (param $n i32) (param $eos i32) (result i32)
             {body}
             (i32.const 0))"#
    )
}

#[test]
fn header_map_operations_follow_envoy() {
    let plugin = guest(&on_request_headers(
        r#"
    (call $status (call $get_value (i32.const 0) (str ":PATH") (global.get $RET_PTR) (global.get $RET_LEN)))
    (call $say_ret)
    (call $status (call $get_value (i32.const 0) (str "x-missing") (global.get $RET_PTR) (global.get $RET_LEN)))
    (call $status (call $get_value (i32.const 0) (str "x-dup") (global.get $RET_PTR) (global.get $RET_LEN)))
    (call $say_ret)
    (call $status (call $add_value (i32.const 0) (str "X-New") (str "1")))
    (call $status (call $replace_value (i32.const 0) (str "X-Dup") (str "z")))
    (call $status (call $remove_value (i32.const 0) (str "x-absent")))
    (call $status (call $remove_value (i32.const 0) (str "X-GONE")))
    (call $status (call $get_value (i32.const 9) (str "x") (global.get $RET_PTR) (global.get $RET_LEN)))
    "#,
    ));
    let mut vm = plugin.start(VmOptions::default()).unwrap();
    let exchange = vm
        .http_request(&request(&[
            (":path", "/p"),
            ("X-Dup", "a"),
            ("x-gone", "g"),
            ("x-dup", "b"),
        ]))
        .unwrap();
    assert_eq!(messages(&vm), ["0", "/p", "1", "0", "a", "0", "0", "0", "0", "2"]);
    assert_eq!(
        exchange.upstream_request.unwrap(),
        pairs(&[(":path", "/p"), ("x-new", "1"), ("x-dup", "z")])
    );
    assert!(exchange.route_cache_cleared);
}

#[test]
fn get_pairs_allocates_once_and_round_trips_through_set_pairs() {
    let plugin = guest(&on_request_headers(
        r#"
    (call $status (call $get_pairs (i32.const 0) (global.get $RET_PTR) (global.get $RET_LEN)))
    (call $status (call $allocs))
    (call $status (call $set_pairs (i32.const 0) (i32.load (global.get $RET_PTR)) (i32.load (global.get $RET_LEN))))
    ;; The response map is not available yet: it reads as empty, written as
    ;; (0, 0) with no allocation.
    (i32.store (global.get $RET_PTR) (i32.const 7))
    (i32.store (global.get $RET_LEN) (i32.const 7))
    (call $status (call $get_pairs (i32.const 2) (global.get $RET_PTR) (global.get $RET_LEN)))
    (call $status (i32.load (global.get $RET_PTR)))
    (call $status (i32.load (global.get $RET_LEN)))
    (call $status (call $allocs))
    ;; A malformed map is refused.
    (call $status (call $set_pairs (i32.const 0) (str "garbage")))
    "#,
    ));
    let mut vm = plugin.start(VmOptions::default()).unwrap();
    let input = [(":path", "/"), ("A", "1"), ("a", "2"), ("empty", "")];
    let exchange = vm.http_request(&request(&input)).unwrap();
    assert_eq!(messages(&vm), ["0", "1", "0", "0", "0", "0", "1", "2"]);
    assert_eq!(
        exchange.upstream_request.unwrap(),
        pairs(&[(":path", "/"), ("a", "1"), ("a", "2"), ("empty", "")])
    );
}

#[test]
fn maps_are_reachable_only_where_envoy_holds_them() {
    let plugin = guest(
        r#"
  (func (export "proxy_on_response_headers") (param $id i32) (param $n i32) (param $eos i32) (result i32)
    (call $status (call $get_value (i32.const 0) (str ":path") (global.get $RET_PTR) (global.get $RET_LEN)))
    (call $status (call $add_value (i32.const 0) (str "x") (str "y")))
    (call $status (call $get_value (i32.const 2) (str ":status") (global.get $RET_PTR) (global.get $RET_LEN)))
    (call $say_ret)
    (call $status (call $replace_value (i32.const 2) (str ":status") (str "503")))
    (i32.const 0))
  (func (export "proxy_on_log") (param $id i32)
    (call $status (call $get_value (i32.const 0) (str ":path") (global.get $RET_PTR) (global.get $RET_LEN)))
    (call $say_ret)
    (call $status (call $get_value (i32.const 2) (str ":status") (global.get $RET_PTR) (global.get $RET_LEN)))
    (call $say_ret)
    (call $status (call $get_value (i32.const 3) (str "grpc-status") (global.get $RET_PTR) (global.get $RET_LEN)))
    (call $status (call $add_value (i32.const 2) (str "x") (str "y"))))
  (func (export "proxy_on_done") (param $id i32) (result i32)
    (call $status (call $get_value (i32.const 0) (str ":path") (global.get $RET_PTR) (global.get $RET_LEN)))
    (i32.const 1))
"#,
    );
    let mut vm = plugin.start(VmOptions::default()).unwrap();
    let exchange = vm.http_request(&request(&[(":path", "/p")])).unwrap();
    assert_eq!(
        messages(&vm),
        ["2", "2", "0", "200", "0", "0", "/p", "0", "503", "1", "2", "2"]
    );
    assert_eq!(exchange.response_headers, pairs(&[(":status", "503")]));
    assert!(!exchange.route_cache_cleared);
}

#[test]
fn bad_pointers_are_invalid_memory_access_not_panics() {
    // Memory is 4 pages (262144 bytes).
    let plugin = guest(&on_request_headers(
        r#"
    (call $status (call $get_value (i32.const 0) (i32.const -16) (i32.const 100) (global.get $RET_PTR) (global.get $RET_LEN)))
    (call $status (call $get_value (i32.const 0) (i32.const 262140) (i32.const 8) (global.get $RET_PTR) (global.get $RET_LEN)))
    (call $status (call $get_value (i32.const 0) (str ":path") (i32.const 262142) (global.get $RET_LEN)))
    (call $status (call $get_value (i32.const 0) (str ":path") (global.get $RET_PTR) (i32.const -1)))
    (call $status (call $allocs))
    (call $status (call $log (i32.const 2) (i32.const -1) (i32.const 2)))
    (call $status (call $add_value (i32.const 0) (str "k") (i32.const 262143) (i32.const 2)))
    (call $status (call $get_pairs (i32.const 0) (i32.const 262144) (global.get $RET_LEN)))
    (call $status (call $set_pairs (i32.const 0) (i32.const 0) (i32.const -1)))
    (call $status (call $now (i32.const 262140)))
    (call $status (call $local_response (i32.const 200) (i32.const -1) (i32.const 5) (i32.const 0) (i32.const 0)
                                         (i32.const 0) (i32.const 0) (i32.const -1)))
    "#,
    ));
    let mut vm = plugin.start(VmOptions::default()).unwrap();
    let exchange = vm.http_request(&request(&[(":path", "/")])).unwrap();
    assert_eq!(
        messages(&vm),
        ["6", "6", "6", "6", "0", "6", "6", "6", "6", "6", "6"]
    );
    assert!(exchange.local_reply.is_none());
    assert!(!exchange.route_cache_cleared);
}

#[test]
fn buffers_slice_and_plugin_config_only_in_configure() {
    let plugin = guest(
        r#"
  (func (export "proxy_on_configure") (param $id i32) (param $len i32) (result i32)
    (call $status (call $get_buffer (i32.const 7) (i32.const 2) (i32.const 3) (global.get $RET_PTR) (global.get $RET_LEN)))
    (call $say_ret)
    (call $status (call $get_buffer (i32.const 7) (i32.const 5) (i32.const 100) (global.get $RET_PTR) (global.get $RET_LEN)))
    (call $say_ret)
    (call $status (call $get_buffer (i32.const 7) (i32.const 100) (i32.const 1) (global.get $RET_PTR) (global.get $RET_LEN)))
    (call $status (i32.load (global.get $RET_LEN)))
    (call $status (call $get_buffer (i32.const 7) (i32.const -1) (i32.const 2) (global.get $RET_PTR) (global.get $RET_LEN)))
    (call $status (call $get_buffer (i32.const 6) (i32.const 0) (i32.const -1) (global.get $RET_PTR) (global.get $RET_LEN)))
    (call $say_ret)
    (call $status (call $get_buffer (i32.const 9) (i32.const 0) (i32.const 1) (global.get $RET_PTR) (global.get $RET_LEN)))
    (i32.const 1))
  (func (export "proxy_on_request_headers") (param $id i32) (param $n i32) (param $eos i32) (result i32)
    (call $status (call $get_buffer (i32.const 7) (i32.const 0) (i32.const 10) (global.get $RET_PTR) (global.get $RET_LEN)))
    (call $status (call $get_buffer (i32.const 6) (i32.const 0) (i32.const 10) (global.get $RET_PTR) (global.get $RET_LEN)))
    (call $status (call $get_buffer (i32.const 0) (i32.const 0) (i32.const 10) (global.get $RET_PTR) (global.get $RET_LEN)))
    (i32.const 0))
  (func (export "proxy_on_request_body") (param $id i32) (param $len i32) (param $eos i32) (result i32)
    (call $status (call $get_buffer (i32.const 0) (i32.const 0) (local.get $len) (global.get $RET_PTR) (global.get $RET_LEN)))
    (call $say_ret)
    (i32.const 0))
"#,
    );
    let options = VmOptions {
        plugin_config: b"abcdefg".to_vec(),
        vm_config: b"vm-config".to_vec(),
        ..VmOptions::default()
    };
    let mut vm = plugin.start(options).unwrap();
    assert_eq!(
        messages(&vm),
        ["0", "cde", "0", "fg", "0", "0", "2", "0", "vm-config", "2"]
    );
    vm.take_logs();
    let mut req = request(&[(":path", "/")]);
    req.body = b"payload".to_vec();
    vm.http_request(&req).unwrap();
    assert_eq!(messages(&vm), ["1", "0", "1", "0", "payload"]);
}

#[test]
fn properties_come_from_the_options_table() {
    let plugin = guest(&on_request_headers(
        r#"
    (call $status (call $get_property (str "request\00id") (global.get $RET_PTR) (global.get $RET_LEN)))
    (call $say_ret)
    (call $status (call $get_property (str "plugin_root_id") (global.get $RET_PTR) (global.get $RET_LEN)))
    (call $say_ret)
    (call $status (call $get_property (str "request\00nope") (global.get $RET_PTR) (global.get $RET_LEN)))
    (call $status (call $set_property (str "filter\00x") (str "set")))
    (call $status (call $get_property (str "filter\00x") (global.get $RET_PTR) (global.get $RET_LEN)))
    (call $say_ret)
    "#,
    ));
    let options = VmOptions {
        root_id: "switchyard".into(),
        properties: vec![("request.id".into(), b"req-42".to_vec())],
        ..VmOptions::default()
    };
    let mut vm = plugin.start(options).unwrap();
    vm.http_request(&request(&[(":path", "/")])).unwrap();
    assert_eq!(
        messages(&vm),
        ["0", "req-42", "0", "switchyard", "1", "0", "0", "set"]
    );
    // Every read is recorded, found or not, with its path joined by dots.
    assert_eq!(
        vm.property_reads(),
        ["request.id", "plugin_root_id", "request.nope", "filter.x"]
    );
}

#[test]
fn clear_route_cache_is_the_only_foreign_function() {
    let plugin = guest(&on_request_headers(
        r#"
    (call $status (call $foreign (str "nope") (i32.const 0) (i32.const 0) (global.get $RET_PTR) (global.get $RET_LEN)))
    (call $status (call $foreign (str "clear_route_cache") (i32.const 0) (i32.const 0) (global.get $RET_PTR) (global.get $RET_LEN)))
    "#,
    ));
    let mut vm = plugin.start(VmOptions::default()).unwrap();
    let exchange = vm.http_request(&request(&[(":path", "/")])).unwrap();
    assert_eq!(messages(&vm), ["1", "0"]);
    assert!(exchange.route_cache_cleared);
}

#[test]
fn local_reply_outside_a_stream_is_ignored_and_malformed_headers_refused() {
    let plugin = guest(
        r#"
  (func (export "proxy_on_configure") (param $id i32) (param $len i32) (result i32)
    (call $status (call $local_response (i32.const 500) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)
                                         (i32.const 0) (i32.const 0) (i32.const -1)))
    (i32.const 1))
  (func (export "proxy_on_request_headers") (param $id i32) (param $n i32) (param $eos i32) (result i32)
    (call $status (call $local_response (i32.const 403) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)
                                         (str "bad-map") (i32.const -1)))
    (call $status (call $local_response (i32.const 70000) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)
                                         (i32.const 0) (i32.const 0) (i32.const -1)))
    (i32.const 0))
"#,
    );
    let mut vm = plugin.start(VmOptions::default()).unwrap();
    let exchange = vm.http_request(&request(&[(":path", "/")])).unwrap();
    assert_eq!(messages(&vm), ["0", "2", "2"]);
    assert!(exchange.local_reply.is_none());
    assert!(exchange.upstream_request.is_some());
}

#[test]
fn metrics_are_defined_counted_and_read_back() {
    let plugin = guest(
        r#"
  (func (export "proxy_on_vm_start") (param $id i32) (param $len i32) (result i32)
    (call $status (call $define_metric (i32.const 0) (str "hits") (i32.const 2008)))
    (call $status (call $define_metric (i32.const 1) (str "level") (i32.const 2012)))
    (call $status (call $define_metric (i32.const 2) (str "sizes") (i32.const 2016)))
    (call $status (call $define_metric (i32.const 3) (str "bad") (i32.const 2020)))
    (call $status (call $increment_metric (i32.load (i32.const 2008)) (i64.const 5)))
    (call $status (call $increment_metric (i32.load (i32.const 2008)) (i64.const -1)))
    (call $status (call $record_metric (i32.load (i32.const 2008)) (i64.const 2)))
    (call $status (call $increment_metric (i32.load (i32.const 2012)) (i64.const -3)))
    (call $status (call $record_metric (i32.load (i32.const 2016)) (i64.const 40)))
    (call $status (call $get_metric (i32.load (i32.const 2008)) (i32.const 2024)))
    (call $say_u64 (i64.load (i32.const 2024)))
    (call $status (call $get_metric (i32.const 99) (i32.const 2024)))
    (i32.const 1))
"#,
    );
    let vm = plugin.start(VmOptions::default()).unwrap();
    assert_eq!(
        messages(&vm),
        ["0", "0", "0", "2", "0", "2", "0", "0", "0", "0", "7", "1"]
    );
    let metrics = vm.metrics();
    let summary: Vec<(&str, MetricKind, u64)> = metrics
        .iter()
        .map(|m| (m.name.as_str(), m.kind, m.value))
        .collect();
    assert_eq!(
        summary,
        [
            ("hits", MetricKind::Counter, 7),
            ("level", MetricKind::Gauge, 3u64.wrapping_neg()),
            ("sizes", MetricKind::Histogram, 1),
        ]
    );
    assert_eq!(metrics[2].samples, [40]);
}

#[test]
fn time_log_level_and_clocks_are_injected() {
    let plugin = guest(
        r#"
  (func (export "proxy_on_vm_start") (param $id i32) (param $len i32) (result i32)
    (call $status (call $now (i32.const 2008)))
    (call $say_u64 (i64.load (i32.const 2008)))
    (call $status (call $clock_time_get (i32.const 1) (i64.const 1) (i32.const 2008)))
    (call $say_u64 (i64.load (i32.const 2008)))
    (call $say_u64 (i64.extend_i32_u (call $clock_time_get (i32.const 9) (i64.const 1) (i32.const 2008))))
    (call $status (call $get_log_level (i32.const 2008)))
    (call $status (i32.load (i32.const 2008)))
    (i32.const 1))
"#,
    );
    let options = VmOptions {
        now_nanos: 1_700_000_000_123_456_789,
        ..VmOptions::default()
    };
    let vm = plugin.start(options).unwrap();
    assert_eq!(
        messages(&vm),
        [
            "0",
            "1700000000123456789",
            "0",
            "1700000000123456789",
            "28",
            "0",
            "0"
        ]
    );
}

#[test]
fn stdout_and_stderr_become_log_lines() {
    let plugin = guest(
        r#"
  (data (i32.const 3000) "hello wor")
  (data (i32.const 3100) "ld\nsecond\npart")
  (data (i32.const 3200) "oops\n")
  (func (export "proxy_on_vm_start") (param $id i32) (param $len i32) (result i32)
    ;; Two iovecs at 3300: "hello wor" and "ld\nsecond\npart".
    (i32.store (i32.const 3300) (i32.const 3000)) (i32.store (i32.const 3304) (i32.const 9))
    (i32.store (i32.const 3308) (i32.const 3100)) (i32.store (i32.const 3312) (i32.const 14))
    (call $status (call $fd_write (i32.const 1) (i32.const 3300) (i32.const 2) (i32.const 3400)))
    (call $say_u64 (i64.extend_i32_u (i32.load (i32.const 3400))))
    (i32.store (i32.const 3300) (i32.const 3200)) (i32.store (i32.const 3304) (i32.const 5))
    (call $status (call $fd_write (i32.const 2) (i32.const 3300) (i32.const 1) (i32.const 3400)))
    (call $status (call $fd_write (i32.const 3) (i32.const 3300) (i32.const 1) (i32.const 3400)))
    (call $say_u64 (i64.extend_i32_u (call $fd_write (i32.const 1) (i32.const -4) (i32.const 1) (i32.const 3400))))
    (i32.const 1))
  (func (export "proxy_on_configure") (param $id i32) (param $len i32) (result i32)
    unreachable)
"#,
    );
    let err = plugin.start(VmOptions::default()).unwrap_err().to_string();
    // The unfinished "part" line is flushed into the error report.
    assert!(err.contains("[Info] part"), "{err}");
    assert!(err.contains("[Error] oops"), "{err}");
    assert!(err.contains("[Info] hello world"), "{err}");
    assert!(err.contains("[Info] 23"), "{err}");
    assert!(err.contains("\n  [Info] 8\n"), "EBADF for fd 3: {err}");
    assert!(err.contains("\n  [Info] 21\n"), "EFAULT for a bad iovec: {err}");
}

#[test]
fn stdio_levels_are_info_and_error() {
    let plugin = guest(
        r#"
  (data (i32.const 3000) "out\n")
  (func (export "proxy_on_vm_start") (param $id i32) (param $len i32) (result i32)
    (i32.store (i32.const 3300) (i32.const 3000)) (i32.store (i32.const 3304) (i32.const 4))
    (drop (call $fd_write (i32.const 1) (i32.const 3300) (i32.const 1) (i32.const 3400)))
    (drop (call $fd_write (i32.const 2) (i32.const 3300) (i32.const 1) (i32.const 3400)))
    (i32.const 1))
"#,
    );
    let vm = plugin.start(VmOptions::default()).unwrap();
    let levels: Vec<_> = vm.logs().iter().map(|l| (l.level, l.message.as_str())).collect();
    assert_eq!(levels, [(LogLevel::Info, "out"), (LogLevel::Error, "out")]);
}

#[test]
fn random_bytes_follow_the_seed() {
    let plugin = guest(
        r#"
  (func (export "proxy_on_vm_start") (param $id i32) (param $len i32) (result i32)
    (call $status (call $random_get (i32.const 2008) (i32.const 8)))
    (call $say_u64 (i64.load (i32.const 2008)))
    (call $status (call $random_get (i32.const 262140) (i32.const 8)))
    (i32.const 1))
"#,
    );
    let run = |seed| {
        let options = VmOptions {
            random_seed: seed,
            ..VmOptions::default()
        };
        messages(&plugin.start(options).unwrap())
    };
    let first = run(1);
    assert_eq!(first[0], "0");
    assert_eq!(first[2], "E", "EFAULT (21) as '0' + 21");
    assert_eq!(run(1), first);
    assert_ne!(run(2)[1], first[1]);
}
