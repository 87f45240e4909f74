//! `Program::from_bytes` on arbitrary bytes must return a program or a `LoadError`, never
//! panic; a program that loads must evaluate any request and print its listing without
//! panicking.
//!
//! Each input is tried twice: as given (reaching the header, length and checksum checks)
//! and with its length and CRC fields fixed up (so mutations reach the structural checks
//! behind the checksum, which random bytes would almost never pass).

#![no_main]

use libfuzzer_sys::fuzz_target;
use switchyard_bytecode::checksum::crc32;
use switchyard_bytecode::format::HEADER_LEN;
use switchyard_bytecode::{Outcome, Program, Request, Scratch};

/// (port, authority, method, path, headers, random)
type Probe = (
    u32,
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
    u64,
);

const PROBES: &[Probe] = &[
    (80, "foo.example.com", "GET", "/", &[], 0),
    (
        80,
        "foo.example.com:80",
        "POST",
        "/exact",
        &[("x-canary", "true")],
        1,
    ),
    (
        80,
        "a.b.example.com",
        "GET",
        "/api/v1/items?version=v2&x=1",
        &[],
        2,
    ),
    (
        80,
        "x.example.com",
        "GET",
        "/u/42/profile?q=hello%20world",
        &[("x-env", "prod"), ("x-env", "canary")],
        3,
    ),
    (
        80,
        "FOO.EXAMPLE.COM",
        "PUT",
        "/static/css/site.css#frag",
        &[("x-env", "")],
        u64::MAX,
    ),
    (8080, "other.test", "GET", "/teapot", &[], 7),
    (443, "[::1]:443", "", "", &[], 0),
    (
        80,
        ".example.com",
        "GET",
        "//a//b/?&&=&%zz=%",
        &[("x-user", "u1234")],
        12345,
    ),
];

fn exercise(program: &Program) {
    let mut scratch = Scratch::new();
    for &(port, authority, method, path, headers, random) in PROBES {
        let headers: Vec<(String, String)> = headers
            .iter()
            .map(|&(n, v)| (n.to_string(), v.to_string()))
            .collect();
        let request = Request {
            port,
            authority,
            method,
            path,
            scheme: "http",
            headers: (&headers).into(),
            random,
            sni: Some(authority),
        };
        let decision = program.evaluate(&request, &mut scratch);
        let _ = program.plan(&decision, &request);
        if let Some(entry) = decision.entry {
            assert!(entry < program.entry_count());
            let _ = program.source(entry).to_string();
        }
        match decision.outcome {
            Outcome::Forward { backend, .. } => assert!(backend < program.backend_count()),
            Outcome::Reply { status, .. } => assert!((100..=599).contains(&status)),
            Outcome::Redirect { status, .. } => assert!([301, 302, 303, 307, 308].contains(&status)),
        }
    }
    let _ = program.listing();
    let _ = program.needed_headers().count();
}

fuzz_target!(|data: &[u8]| {
    if let Ok(program) = Program::from_bytes(data) {
        exercise(&program);
    }
    if data.len() >= HEADER_LEN {
        let mut fixed = data.to_vec();
        let len = fixed.len() as u32;
        fixed[16..20].copy_from_slice(&len.to_le_bytes());
        let crc = crc32(&fixed[HEADER_LEN..]);
        fixed[20..24].copy_from_slice(&crc.to_le_bytes());
        if let Ok(program) = Program::from_bytes(&fixed) {
            exercise(&program);
        }
    }
});
