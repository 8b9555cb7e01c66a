#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::panic
)]
//! Decode and encode of an event message and of a 10-message framed payload.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sio_legacy_proto::{Message, decode, decode_payload, encode_payload};

const EVENT: &str = r#"5:12+:/chat:{"name":"message","args":["hello, world",{"room":"lobby","ts":1700000000,"tags":["a","b"]},3.5]}"#;

fn payload() -> String {
    let msgs: Vec<Message> = (0..10)
        .map(|i| match i % 3 {
            0 => decode(EVENT).unwrap(),
            1 => decode("3:::héllo wörld — 😀").unwrap(),
            _ => decode(r#"6:::42+["ok",{"n":1}]"#).unwrap(),
        })
        .collect();
    let mut out = String::new();
    encode_payload(&msgs, &mut out);
    out
}

fn bench(c: &mut Criterion) {
    let event = decode(EVENT).unwrap();
    let body = payload();
    let msgs: Vec<Message> = decode_payload(&body).collect::<Result<_, _>>().unwrap();

    let mut g = c.benchmark_group("event");
    g.throughput(Throughput::Bytes(EVENT.len() as u64));
    g.bench_function("decode", |b| b.iter(|| decode(black_box(EVENT)).unwrap()));
    let mut out = String::with_capacity(256);
    g.bench_function("encode", |b| {
        b.iter(|| {
            out.clear();
            black_box(&event).encode(&mut out);
            out.len()
        })
    });
    g.finish();

    let mut g = c.benchmark_group("payload10");
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_function("decode", |b| {
        b.iter(|| {
            decode_payload(black_box(&body))
                .map(|m| m.map(|_| ()))
                .collect::<Result<Vec<()>, _>>()
                .unwrap()
        })
    });
    let mut out = String::with_capacity(2048);
    g.bench_function("encode", |b| {
        b.iter(|| {
            out.clear();
            encode_payload(black_box(&msgs), &mut out);
            out.len()
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
