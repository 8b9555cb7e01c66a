//! Encode/decode throughput of typical packets, text and msgpack parsers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::panic
)]

use std::hint::black_box;
use std::time::Duration;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sio_socketio_proto::{
    Decoder, DecoderConfig, Packet, ProtocolVersion, Value, encode, encode_into, encode_owned,
    msgpack,
};

const SMALL: &str = r#"2["message",{"a":1,"b":"hello","c":[true,null]}]"#;

fn small_packet() -> Packet {
    Packet::event(
        "/",
        "message",
        vec![Value::Map(vec![
            (Value::from("a"), Value::from(1)),
            (Value::from("b"), Value::from("hello")),
            (
                Value::from("c"),
                Value::Array(vec![Value::Boolean(true), Value::Nil]),
            ),
        ])],
    )
}

fn binary_packet() -> Packet {
    Packet::event(
        "/",
        "upload",
        vec![Value::from("file.bin"), Value::Binary(vec![0xab; 4096])],
    )
}

fn text(c: &mut Criterion) {
    let small = small_packet();
    assert_eq!(encode(&small, ProtocolVersion::V5).unwrap().text, SMALL);
    let mut g = c.benchmark_group("text/small_event");
    g.throughput(Throughput::Bytes(SMALL.len() as u64));
    g.bench_function("encode", |b| {
        b.iter(|| encode(black_box(&small), ProtocolVersion::V5).unwrap())
    });
    let mut buf = String::with_capacity(128);
    let mut attachments = Vec::new();
    g.bench_function("encode_into_reused_buffer", |b| {
        b.iter(|| {
            buf.clear();
            encode_into(
                black_box(&small),
                ProtocolVersion::V5,
                &mut buf,
                &mut attachments,
            )
            .unwrap();
        })
    });
    let mut decoder = Decoder::new(DecoderConfig::default());
    g.bench_function("decode", |b| {
        b.iter(|| decoder.feed_text(black_box(SMALL)).unwrap().unwrap())
    });
    g.finish();

    let binary = binary_packet();
    let encoded = encode(&binary, ProtocolVersion::V5).unwrap();
    let mut g = c.benchmark_group("text/event_4k_attachment");
    g.throughput(Throughput::Bytes(
        (encoded.text.len() + encoded.attachments[0].len()) as u64,
    ));
    g.bench_function("encode", |b| {
        b.iter(|| encode(black_box(&binary), ProtocolVersion::V5).unwrap())
    });
    g.bench_function("encode_owned", |b| {
        b.iter_batched(
            || binary.clone(),
            |p| encode_owned(p, ProtocolVersion::V5).unwrap(),
            criterion::BatchSize::SmallInput,
        )
    });
    g.bench_function("decode", |b| {
        b.iter(|| {
            assert!(
                decoder
                    .feed_text(black_box(&encoded.text))
                    .unwrap()
                    .is_none()
            );
            decoder
                .feed_binary(black_box(encoded.attachments[0].clone()))
                .unwrap()
                .unwrap()
        })
    });
    g.finish();
}

fn msgpack_bench(c: &mut Criterion) {
    for (name, packet) in [
        ("msgpack/small_event", small_packet()),
        ("msgpack/event_4k_binary", binary_packet()),
    ] {
        let bytes = msgpack::encode(&packet).unwrap();
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function("encode", |b| {
            b.iter(|| msgpack::encode(black_box(&packet)).unwrap())
        });
        let mut buf = Vec::with_capacity(bytes.len());
        g.bench_function("encode_into_reused_buffer", |b| {
            b.iter(|| {
                buf.clear();
                msgpack::encode_into(black_box(&packet), &mut buf).unwrap();
            })
        });
        let frame = Bytes::from(bytes);
        g.bench_function("decode", |b| {
            b.iter(|| msgpack::decode(black_box(&frame)).unwrap())
        });
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = text, msgpack_bench
}
criterion_main!(benches);
