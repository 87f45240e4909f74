//! Hand-written test guests in the WebAssembly text format.
//!
//! `guest(body)` wraps `body` in a prelude that imports the hostcalls, exports
//! memory, a bump allocator and the ABI marker, and defines helpers:
//!
//! - `(say "text")` logs `text` at info level;
//! - `(str "text")` expands to `(i32.const ptr) (i32.const len)` of `text`;
//! - `(call $status X)` logs the status code `X` as one character
//!   (`'0' + X`, so OK is "0", NOT_FOUND "1", INVALID_MEMORY_ACCESS "6");
//! - `(call $say_ret)` logs the bytes a hostcall returned into the slots at
//!   `$RET_PTR` (2000) and `$RET_LEN` (2004);
//! - `(call $say_u64 X)` logs an `i64` in decimal;
//! - `(call $allocs)` returns how many times the allocator ran.

#![allow(dead_code)]

use switchyard_host_harness::Plugin;

const PRELUDE: &str = r#"
(module
  (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
  (import "env" "proxy_get_buffer_bytes" (func $get_buffer (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_header_map_pairs" (func $get_pairs (param i32 i32 i32) (result i32)))
  (import "env" "proxy_set_header_map_pairs" (func $set_pairs (param i32 i32 i32) (result i32)))
  (import "env" "proxy_get_header_map_value" (func $get_value (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_add_header_map_value" (func $add_value (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_replace_header_map_value" (func $replace_value (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_remove_header_map_value" (func $remove_value (param i32 i32 i32) (result i32)))
  (import "env" "proxy_send_local_response" (func $local_response (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_property" (func $get_property (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_set_property" (func $set_property (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_call_foreign_function" (func $foreign (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_current_time_nanoseconds" (func $now (param i32) (result i32)))
  (import "env" "proxy_get_log_level" (func $get_log_level (param i32) (result i32)))
  (import "env" "proxy_define_metric" (func $define_metric (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_increment_metric" (func $increment_metric (param i32 i64) (result i32)))
  (import "env" "proxy_record_metric" (func $record_metric (param i32 i64) (result i32)))
  (import "env" "proxy_get_metric" (func $get_metric (param i32 i32) (result i32)))
  (import "env" "proxy_http_call" (func $http_call (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))

  (memory (export "memory") 4)
  (global $heap (mut i32) (i32.const 65536))
  (global $alloc_count (mut i32) (i32.const 0))
  (global $RET_PTR i32 (i32.const 2000))
  (global $RET_LEN i32 (i32.const 2004))

  (func (export "proxy_abi_version_0_2_1"))

  (func (export "proxy_on_memory_allocate") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get $size)))
    (global.set $alloc_count (i32.add (global.get $alloc_count) (i32.const 1)))
    (local.get $p))

  (func $allocs (result i32) (global.get $alloc_count))

  (func $say (param $ptr i32) (param $len i32)
    (drop (call $log (i32.const 2) (local.get $ptr) (local.get $len))))

  (func $status (param $code i32)
    (i32.store8 (i32.const 1000) (i32.add (i32.const 48) (local.get $code)))
    (call $say (i32.const 1000) (i32.const 1)))

  (func $say_ret
    (call $say (i32.load (global.get $RET_PTR)) (i32.load (global.get $RET_LEN))))

  ;; Decimal digits written backwards from 1199.
  (func $say_u64 (param $v i64)
    (local $p i32)
    (local.set $p (i32.const 1200))
    (loop $digits
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i64.store8 (local.get $p) (i64.add (i64.const 48) (i64.rem_u (local.get $v) (i64.const 10))))
      (local.set $v (i64.div_u (local.get $v) (i64.const 10)))
      (br_if $digits (i64.ne (local.get $v) (i64.const 0))))
    (call $say (local.get $p) (i32.sub (i32.const 1200) (local.get $p))))
"#;

/// Strings live from here up to the heap.
const DATA_BASE: usize = 4096;

/// Expands the `(say "…")` and `(str "…")` shorthands and appends the data
/// segments they need.
pub fn expand(body: &str) -> String {
    let body = body.replace("(say \"", "(call $say (str \"");
    let body = close_says(&body);
    let mut out = String::new();
    let mut data = String::new();
    let mut offset = DATA_BASE;
    let mut rest = body.as_str();
    while let Some(start) = rest.find("(str \"") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 6..];
        let end = after.find("\")").expect("unterminated (str \"…\")");
        let text = &after[..end];
        let len = decoded_len(text);
        out.push_str(&format!("(i32.const {offset}) (i32.const {len})"));
        data.push_str(&format!("  (data (i32.const {offset}) \"{text}\")\n"));
        offset += len + 1;
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    assert!(offset < 65536, "test strings overflow the data area");
    format!("{out}\n{data}")
}

/// Bytes in a WAT string literal: `\hh` is one byte, as are `\n`, `\t`
/// and `\\`.
fn decoded_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    let (mut i, mut len) = (0, 0);
    while i < bytes.len() {
        i += match bytes[i] {
            b'\\' if bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit) => 3,
            b'\\' => 2,
            _ => 1,
        };
        len += 1;
    }
    len
}

/// `(call $say (str "x")` from the first replace still needs one more `)`.
fn close_says(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some(start) = rest.find("(call $say (str \"") {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        let end = after.find("\")").expect("unterminated (say \"…\")") + 2;
        out.push_str(&after[..end]);
        out.push(')');
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

pub fn wat(body: &str) -> String {
    format!("{PRELUDE}\n{}\n)", expand(body))
}

pub fn guest(body: &str) -> Plugin {
    let text = wat(body);
    let wasm = wat::parse_str(&text).unwrap_or_else(|e| panic!("bad test WAT: {e}\n{text}"));
    Plugin::from_bytes(&wasm).expect("test guest loads")
}

/// The messages of the VM's log, without levels.
pub fn messages(vm: &switchyard_host_harness::Vm) -> Vec<String> {
    vm.logs().iter().map(|l| l.message.clone()).collect()
}
