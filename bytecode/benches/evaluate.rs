//! `Program::evaluate` and `Program::from_bytes` on generated route tables of 10 to
//! 100 000 rules (see `tables/mod.rs` for their shape).
//!
//! `evaluate/{rules}/{early,middle,late,miss}`: one request hitting the first, middle or
//! last rule of the table, or no rule (404), with a reused `Scratch`.
//! `load/{rules}`: verifying and loading the bytes (includes compiling the regexes).
//!
//! Run: `cargo bench -p switchyard-bytecode --bench evaluate` (about two minutes).

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use switchyard_bytecode::{Program, Scratch, write_program};

mod tables;

const SIZES: [usize; 4] = [10, 1_000, 10_000, 100_000];

fn evaluate(c: &mut Criterion) {
    let mut group = c.benchmark_group("evaluate");
    group.throughput(Throughput::Elements(1));
    for rules in SIZES {
        let table = tables::generate(rules);
        let bytes = write_program(&table.ir).expect("generated tables are valid");
        let program = Program::from_bytes(&bytes).expect("written programs load");
        // Every probe must decide as generated, or the numbers mean nothing.
        for probe in &table.probes {
            probe.check(&program);
        }
        let cases = [
            ("early", table.probes[0].clone()),
            ("middle", table.probes[rules / 2].clone()),
            ("late", table.probes[rules - 1].clone()),
            ("miss", table.miss()),
        ];
        for (name, probe) in &cases {
            probe.check(&program);
            let request = probe.request();
            let mut scratch = Scratch::new();
            group.bench_with_input(BenchmarkId::new(*name, rules), &request, |b, request| {
                b.iter(|| black_box(program.evaluate(black_box(request), &mut scratch)))
            });
        }
    }
    group.finish();
}

fn load(c: &mut Criterion) {
    let mut group = c.benchmark_group("load");
    group.sampling_mode(SamplingMode::Flat);
    for rules in SIZES {
        let bytes = write_program(&tables::generate(rules).ir).expect("generated tables are valid");
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(rules), &bytes, |b, bytes| {
            b.iter(|| Program::from_bytes(black_box(bytes)).expect("loads"))
        });
    }
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1500))
        .without_plots()
}

criterion_group! {
    name = benches;
    config = config();
    targets = evaluate, load
}
criterion_main!(benches);
