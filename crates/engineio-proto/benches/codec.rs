#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
//! Encode and decode of a 10-packet polling payload in each framing, and of single frames.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sio_engineio_proto::{Packet, Revision, decode_binary, decode_text, payload};

/// Nine Socket.IO-looking text messages and one 1 KiB binary message.
fn packets() -> Vec<Packet<'static>> {
    let mut packets: Vec<Packet<'static>> = (0..9)
        .map(|i| {
            Packet::text(format!(
                r#"2["chat message",{{"user":"user-{i}","text":"hello from the bench, message number {i} ✓"}}]"#
            ))
        })
        .collect();
    let binary: Vec<u8> = (0..1024u32).map(|i| (i % 251) as u8).collect();
    packets.insert(5, Packet::binary(binary));
    packets
}

fn count_ok<'a>(
    it: impl Iterator<Item = Result<Packet<'a>, sio_engineio_proto::DecodeError>>,
) -> usize {
    it.map(|p| usize::from(black_box(p).is_ok())).sum()
}

fn bench_payloads(c: &mut Criterion) {
    let packets = packets();

    let mut v4 = String::new();
    payload::encode_v4(&packets, &mut v4).unwrap();
    let mut v3_string = String::new();
    payload::encode_v3_string(&packets, &mut v3_string);
    let mut v3_binary = Vec::new();
    payload::encode_v3_binary(&packets, &mut v3_binary);

    let mut group = c.benchmark_group("payload_10_packets");
    group.throughput(Throughput::Elements(10));

    let mut out = String::with_capacity(v4.len());
    group.bench_function("v4_encode", |b| {
        b.iter(|| {
            out.clear();
            payload::encode_v4(black_box(&packets), &mut out).unwrap();
            out.len()
        })
    });
    group.bench_function("v4_decode", |b| {
        b.iter(|| count_ok(payload::decode_v4(black_box(v4.as_bytes()))))
    });

    let mut out = String::with_capacity(v3_string.len());
    group.bench_function("v3_string_encode", |b| {
        b.iter(|| {
            out.clear();
            payload::encode_v3_string(black_box(&packets), &mut out);
            out.len()
        })
    });
    group.bench_function("v3_string_decode", |b| {
        b.iter(|| count_ok(payload::decode_v3_string(black_box(v3_string.as_bytes()))))
    });

    let mut out = Vec::with_capacity(v3_binary.len());
    group.bench_function("v3_xhr2_encode", |b| {
        b.iter(|| {
            out.clear();
            payload::encode_v3_binary(black_box(&packets), &mut out);
            out.len()
        })
    });
    group.bench_function("v3_xhr2_decode", |b| {
        b.iter(|| count_ok(payload::decode_v3_binary(black_box(&v3_binary))))
    });
    group.finish();
}

fn bench_frames(c: &mut Criterion) {
    let mut group = c.benchmark_group("frame");
    let text = r#"42["chat message",{"user":"someone","text":"hello there"}]"#;
    group.bench_function("text_decode", |b| {
        b.iter(|| decode_text(black_box(text)).is_ok())
    });
    let packet = decode_text(text).unwrap();
    let mut out = String::with_capacity(text.len());
    group.bench_function("text_encode", |b| {
        b.iter(|| {
            out.clear();
            black_box(&packet).encode_text(&mut out).unwrap();
            out.len()
        })
    });
    group.bench_function("text_decode_ping", |b| {
        b.iter(|| decode_text(black_box("2")).is_ok())
    });
    let binary = vec![4u8; 1024];
    group.bench_function("binary_decode_v3_1k", |b| {
        b.iter(|| decode_binary(black_box(&binary), Revision::V3).is_ok())
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = bench_payloads, bench_frames
}
criterion_main!(benches);
