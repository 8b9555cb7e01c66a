//! The spec's exact frames (HubProtocol.md, TransportProtocols.md) and the lenient cases real
//! servers need, decoded and encoded.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use sio_signalr_proto::handshake::{
    HandshakeError, HandshakeResponse, decode_handshake_response, encode_handshake_request,
};
use sio_signalr_proto::negotiate::{
    AvailableTransport, HttpTransportType, NegotiateResponse, TransferFormat, connect_url,
    decode_negotiate_response, negotiate_url, transport_order, websocket_url,
};
use sio_signalr_proto::sse::SseDecoder;
use sio_signalr_proto::{
    Completion, DEFAULT_MAX_MESSAGE_LEN, DecodeError, Headers, HubMessage, HubProtocol, Invocation,
    Outcome, StreamItem, Value,
};

const MAX: usize = DEFAULT_MAX_MESSAGE_LEN;

fn json(frame: &str) -> Vec<HubMessage> {
    HubProtocol::Json
        .decode_frame(frame.as_bytes(), MAX)
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{frame:?}: {e}"))
}

fn json_err(frame: &str) -> DecodeError {
    HubProtocol::Json
        .decode_frame(frame.as_bytes(), MAX)
        .find_map(Result::err)
        .unwrap_or_else(|| panic!("{frame:?} decoded"))
}

fn mp(frame: &[u8]) -> Vec<HubMessage> {
    HubProtocol::MessagePack
        .decode_frame(frame, MAX)
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{frame:02x?}: {e}"))
}

fn mp_err(frame: &[u8]) -> DecodeError {
    HubProtocol::MessagePack
        .decode_frame(frame, MAX)
        .find_map(Result::err)
        .unwrap_or_else(|| panic!("{frame:02x?} decoded"))
}

fn encoded(protocol: HubProtocol, message: &HubMessage) -> Vec<u8> {
    let mut out = Vec::new();
    protocol.encode(message, &mut out).unwrap();
    out
}

fn j(text: &str) -> Value {
    Value::json(&serde_json::from_str::<serde_json::Value>(text).unwrap()).unwrap()
}

#[test]
fn json_invocation_from_the_spec() {
    let messages =
        json("{\"type\":1,\"invocationId\":\"0\",\"target\":\"Echo\",\"arguments\":[\"x\"]}\x1e");
    let HubMessage::Invocation(call) = &messages[0] else {
        panic!("{messages:?}")
    };
    assert_eq!(call.invocation_id.as_deref(), Some("0"));
    assert_eq!(call.target, "Echo");
    assert_eq!(call.arguments[0].deserialize::<String>().unwrap(), "x");
    assert_eq!(
        encoded(HubProtocol::Json, &messages[0]),
        b"{\"type\":1,\"invocationId\":\"0\",\"target\":\"Echo\",\"arguments\":[\"x\"]}\x1e"
    );
}

#[test]
fn json_every_message_type_in_one_frame() {
    let frame = concat!(
        "{\"type\":1,\"target\":\"Send\",\"arguments\":[42,\"t\"],\"streamIds\":[\"1\"]}\x1e",
        "{\"type\":2,\"invocationId\":\"1\",\"item\":0}\x1e",
        "{\"type\":3,\"invocationId\":\"0\",\"result\":42}\x1e",
        "{\"type\":3,\"invocationId\":\"0\",\"error\":\"boom\"}\x1e",
        "{\"type\":3,\"invocationId\":\"0\"}\x1e",
        "{\"type\":3,\"invocationId\":\"0\",\"result\":null}\x1e",
        "{\"type\":4,\"invocationId\":\"1\",\"target\":\"Counter\",\"arguments\":[5,10]}\x1e",
        "{\"type\":5,\"invocationId\":\"1\"}\x1e",
        "{\"type\":6}\x1e",
        "{\"type\":7,\"error\":\"bye\",\"allowReconnect\":true}\x1e",
        "{\"type\":7}\x1e",
        "{\"type\":8,\"sequenceId\":1394}\x1e",
        "{\"type\":9,\"sequenceId\":1}\x1e",
        "{\"type\":42,\"anything\":[]}\x1e",
    );
    let got = json(frame);
    let call = |id: Option<&str>, target: &str, args: &[&str], streams: &[&str]| Invocation {
        headers: Headers::new(),
        invocation_id: id.map(str::to_owned),
        target: target.to_owned(),
        arguments: args.iter().map(|a| j(a)).collect(),
        stream_ids: streams.iter().map(|s| (*s).to_owned()).collect(),
    };
    let done = |outcome| {
        HubMessage::Completion(Completion {
            headers: Headers::new(),
            invocation_id: Some("0".into()),
            outcome,
        })
    };
    let expected = vec![
        HubMessage::Invocation(call(None, "Send", &["42", "\"t\""], &["1"])),
        HubMessage::StreamItem(StreamItem {
            headers: Headers::new(),
            invocation_id: "1".into(),
            item: j("0"),
        }),
        done(Outcome::Result(j("42"))),
        done(Outcome::Error("boom".into())),
        done(Outcome::Void),
        done(Outcome::Result(j("null"))),
        HubMessage::StreamInvocation(call(Some("1"), "Counter", &["5", "10"], &[])),
        HubMessage::CancelInvocation {
            headers: Headers::new(),
            invocation_id: "1".into(),
        },
        HubMessage::Ping,
        HubMessage::Close {
            error: Some("bye".into()),
            allow_reconnect: true,
        },
        HubMessage::Close {
            error: None,
            allow_reconnect: false,
        },
        HubMessage::Ack { sequence_id: 1394 },
        HubMessage::Sequence { sequence_id: 1 },
        HubMessage::Unknown { kind: 42 },
    ];
    assert_eq!(got, expected);
    // Everything but the unknown type encodes back to what was read.
    let mut out = Vec::new();
    for m in &expected[..expected.len() - 1] {
        HubProtocol::Json.encode(m, &mut out).unwrap();
    }
    assert_eq!(
        json(std::str::from_utf8(&out).unwrap()),
        expected[..expected.len() - 1]
    );
    assert_eq!(
        encoded(HubProtocol::Json, &HubMessage::Ping),
        b"{\"type\":6}\x1e"
    );
    assert_eq!(
        encoded(HubProtocol::Json, &expected[9]),
        b"{\"type\":7,\"error\":\"bye\",\"allowReconnect\":true}\x1e"
    );
}

#[test]
fn json_headers_kept_or_dropped_when_not_a_map() {
    let got = json(
        "{\"type\":5,\"invocationId\":\"1\",\"headers\":{\"a\":\"b\"}}\x1e{\"type\":5,\"invocationId\":\"2\",\"headers\":[1,2]}\x1e",
    );
    let HubMessage::CancelInvocation { headers, .. } = &got[0] else {
        panic!()
    };
    assert_eq!(headers.get("a").map(String::as_str), Some("b"));
    let HubMessage::CancelInvocation { headers, .. } = &got[1] else {
        panic!()
    };
    assert!(headers.is_empty());
}

#[test]
fn json_completion_without_id_and_integer_ids() {
    let got = json("{\"type\":3,\"result\":1}\x1e{\"type\":3,\"invocationId\":7}\x1e");
    assert_eq!(
        got,
        vec![
            HubMessage::Completion(Completion {
                headers: Headers::new(),
                invocation_id: None,
                outcome: Outcome::Result(j("1"))
            }),
            HubMessage::Completion(Completion {
                headers: Headers::new(),
                invocation_id: Some("7".into()),
                outcome: Outcome::Void
            }),
        ]
    );
}

#[test]
fn json_errors_are_typed_and_positioned() {
    assert!(matches!(
        json_err("{\"type\":6}"),
        DecodeError::Incomplete { offset: 0 }
    ));
    assert!(matches!(
        json_err("{\"type\":6}\x1e\x1e"),
        DecodeError::EmptyRecord { offset: 11 }
    ));
    assert!(
        matches!(json_err("{\"type\":6}\x1e{\"type\":}\x1e"), DecodeError::Json { offset, .. } if (11..21).contains(&offset))
    );
    assert!(matches!(
        json_err("{}\x1e"),
        DecodeError::MissingField { field: "type", .. }
    ));
    assert!(matches!(
        json_err("{\"type\":1,\"arguments\":[]}\x1e"),
        DecodeError::MissingField {
            field: "target",
            ..
        }
    ));
    assert!(matches!(
        json_err("{\"type\":2,\"item\":1}\x1e"),
        DecodeError::MissingField {
            field: "invocationId",
            ..
        }
    ));
    assert!(matches!(
        json_err("{\"type\":4,\"target\":\"x\",\"arguments\":[]}\x1e"),
        DecodeError::MissingField {
            field: "invocationId",
            ..
        }
    ));
    assert!(matches!(
        json_err("{\"type\":3,\"invocationId\":\"1\",\"result\":1,\"error\":\"e\"}\x1e"),
        DecodeError::InvalidField {
            field: "result",
            ..
        }
    ));
    assert!(matches!(
        json_err("{\"type\":8}\x1e"),
        DecodeError::MissingField {
            field: "sequenceId",
            ..
        }
    ));
    assert!(matches!(json_err("[6]\x1e"), DecodeError::Json { .. }));
    let long = format!("{{\"type\":6,\"pad\":\"{}\"}}\x1e", "x".repeat(100));
    let err = HubProtocol::Json
        .decode_frame(long.as_bytes(), 64)
        .find_map(Result::err)
        .unwrap();
    assert!(matches!(err, DecodeError::TooLarge { max: 64, .. }));
}

#[test]
fn json_in_a_binary_frame_reads_the_same() {
    // The decoder reads bytes: a server that sends JSON in binary WebSocket frames is understood.
    let bytes = b"{\"type\":6}\x1e".to_vec();
    assert_eq!(HubProtocol::Json.decode_frame(&bytes, MAX).count(), 1);
}

#[test]
fn message_pack_frames_from_the_spec() {
    assert_eq!(mp(&[0x02, 0x91, 0x06]), vec![HubMessage::Ping]);
    assert_eq!(
        encoded(HubProtocol::MessagePack, &HubMessage::Ping),
        [0x02, 0x91, 0x06]
    );

    let invocation: &[u8] = &[
        0x96, 0x01, 0x80, 0xa3, 0x78, 0x79, 0x7a, 0xa6, 0x6d, 0x65, 0x74, 0x68, 0x6f, 0x64, 0x91,
        0x2a, 0x90,
    ];
    let mut framed = vec![invocation.len() as u8];
    framed.extend_from_slice(invocation);
    let got = mp(&framed);
    let expected = HubMessage::Invocation(Invocation {
        headers: Headers::new(),
        invocation_id: Some("xyz".into()),
        target: "method".into(),
        arguments: vec![Value::MessagePack(42.into())],
        stream_ids: vec![],
    });
    assert_eq!(got, vec![expected.clone()]);
    assert_eq!(encoded(HubProtocol::MessagePack, &expected), framed);
    assert_eq!(got[0].clone(), expected);

    // The JavaScript writer's 5-element form (no stream ids) reads the same.
    let mut five = vec![0x95];
    five.extend_from_slice(&invocation[1..invocation.len() - 1]);
    let mut framed5 = vec![five.len() as u8];
    framed5.extend_from_slice(&five);
    assert_eq!(mp(&framed5), vec![expected]);

    let void: &[u8] = &[0x08, 0x94, 0x03, 0x80, 0xa3, 0x78, 0x79, 0x7a, 0x02];
    let void_message = HubMessage::Completion(Completion {
        headers: Headers::new(),
        invocation_id: Some("xyz".into()),
        outcome: Outcome::Void,
    });
    let mut void_framed = vec![8];
    void_framed.extend_from_slice(&void[1..]);
    assert_eq!(mp(&void_framed), vec![void_message.clone()]);
    assert_eq!(
        encoded(HubProtocol::MessagePack, &void_message),
        void_framed
    );

    let result: &[u8] = &[0x09, 0x95, 0x03, 0x80, 0xa3, 0x78, 0x79, 0x7a, 0x03, 0x2a];
    let result_message = HubMessage::Completion(Completion {
        headers: Headers::new(),
        invocation_id: Some("xyz".into()),
        outcome: Outcome::Result(Value::MessagePack(42.into())),
    });
    assert_eq!(mp(result), vec![result_message.clone()]);
    assert_eq!(encoded(HubProtocol::MessagePack, &result_message), result);

    let close: &[u8] = &[0x07, 0x93, 0x07, 0xa3, 0x78, 0x79, 0x7a, 0xc3];
    let close_message = HubMessage::Close {
        error: Some("xyz".into()),
        allow_reconnect: true,
    };
    assert_eq!(mp(close), vec![close_message.clone()]);
    assert_eq!(encoded(HubProtocol::MessagePack, &close_message), close);
    // Close without the allowReconnect element.
    assert_eq!(
        mp(&[0x03, 0x92, 0x07, 0xc0]),
        vec![HubMessage::Close {
            error: None,
            allow_reconnect: false
        }]
    );
    assert_eq!(
        mp(&[0x03, 0x92, 0x08, 0x05, 0x03, 0x92, 0x09, 0x01]),
        vec![
            HubMessage::Ack { sequence_id: 5 },
            HubMessage::Sequence { sequence_id: 1 }
        ]
    );
}

#[test]
fn message_pack_lenient_headers_and_missing_id() {
    // aiosignalr writes an empty header map as the integer 128 (`cc 80`).
    let frame = [0x06, 0x94, 0x03, 0xcc, 0x80, 0xc0, 0x02];
    assert_eq!(
        mp(&frame),
        vec![HubMessage::Completion(Completion {
            headers: Headers::new(),
            invocation_id: None,
            outcome: Outcome::Void
        })]
    );
    let with_headers = [0x09, 0x93, 0x05, 0x81, 0xa1, b'k', 0xa1, b'v', 0xa1, b'1'];
    let HubMessage::CancelInvocation {
        headers,
        invocation_id,
    } = &mp(&with_headers)[0]
    else {
        panic!()
    };
    assert_eq!(
        (headers.get("k").map(String::as_str), invocation_id.as_str()),
        (Some("v"), "1")
    );
}

#[test]
fn message_pack_errors_are_typed_and_positioned() {
    assert!(matches!(
        mp_err(&[0x05, 0x91]),
        DecodeError::Incomplete { offset: 0 }
    ));
    assert!(matches!(
        mp_err(&[0x02, 0x91, 0x06, 0x80]),
        DecodeError::Incomplete { offset: 3 }
    ));
    assert!(matches!(
        mp_err(&[0xff, 0xff, 0xff, 0xff, 0x08]),
        DecodeError::LengthPrefix { offset: 0 }
    ));
    assert!(matches!(
        mp_err(&[0xff, 0xff, 0xff, 0xff, 0x07]),
        DecodeError::TooLarge { .. }
    ));
    assert!(matches!(
        mp_err(&[0x02, 0xa5, 0x61]),
        DecodeError::MessagePack { offset: 3, .. }
    ));
    assert!(matches!(
        mp_err(&[0x01, 0x06]),
        DecodeError::InvalidField {
            field: "message",
            ..
        }
    ));
    assert!(matches!(
        mp_err(&[0x01, 0x90]),
        DecodeError::MissingField { field: "type", .. }
    ));
    assert!(matches!(
        mp_err(&[0x02, 0x91, 0x01]),
        DecodeError::InvalidField {
            problem: "has too few elements",
            ..
        }
    ));
    assert!(matches!(
        mp_err(&[0x05, 0x94, 0x03, 0x80, 0xa0, 0x07]),
        DecodeError::InvalidField {
            field: "resultKind",
            ..
        }
    ));
    // Deep nesting is refused, not recursed into.
    let mut deep = vec![0x91; 1000];
    deep.insert(0, 0x91);
    let mut framed = vec![0xe9, 0x07];
    framed.extend_from_slice(&deep);
    assert!(matches!(mp_err(&framed), DecodeError::MessagePack { .. }));
}

#[test]
fn values_convert_between_protocols() {
    let message = HubMessage::StreamItem(StreamItem {
        headers: Headers::new(),
        invocation_id: "1".into(),
        item: j("{\"a\":[1,2.5,\"x\"]}"),
    });
    let as_mp = encoded(HubProtocol::MessagePack, &message);
    let back = mp(&as_mp);
    let HubMessage::StreamItem(item) = &back[0] else {
        panic!()
    };
    assert_eq!(
        item.item.to_json().unwrap(),
        serde_json::json!({"a": [1, 2.5, "x"]})
    );
    let text = encoded(HubProtocol::Json, &back[0]);
    assert_eq!(
        text,
        b"{\"type\":2,\"invocationId\":\"1\",\"item\":{\"a\":[1,2.5,\"x\"]}}\x1e"
    );
}

#[test]
fn handshake_request_and_answers() {
    let mut out = Vec::new();
    encode_handshake_request("json", 1, &mut out);
    assert_eq!(out, b"{\"protocol\":\"json\",\"version\":1}\x1e");
    out.clear();
    encode_handshake_request("messagepack", 2, &mut out);
    assert_eq!(out, b"{\"protocol\":\"messagepack\",\"version\":2}\x1e");

    assert_eq!(
        decode_handshake_response(b"{}\x1e", 1024).unwrap(),
        (HandshakeResponse::Accepted, 3)
    );
    assert_eq!(
        decode_handshake_response(b"{\"type\":0}\x1e", 1024).unwrap(),
        (HandshakeResponse::Accepted, 11)
    );
    assert_eq!(
        decode_handshake_response(b"{\"error\":\"nope\"}\x1e", 1024)
            .unwrap()
            .0,
        HandshakeResponse::Refused("nope".into())
    );
    let (answer, used) = decode_handshake_response(b"{}\x1e{\"type\":6}\x1e", 1024).unwrap();
    assert_eq!((answer, used), (HandshakeResponse::Accepted, 3));
    // Binary frame: the JSON answer, then MessagePack messages.
    let (_, used) = decode_handshake_response(b"{}\x1e\x02\x91\x06", 1024).unwrap();
    assert_eq!(used, 3);
    assert!(matches!(
        decode_handshake_response(b"{}", 1024),
        Err(HandshakeError::Incomplete { len: 2 })
    ));
    assert!(matches!(
        decode_handshake_response(b"{\"type\":6}\x1e", 1024),
        Err(HandshakeError::NotHandshake { kind: 6 })
    ));
    assert!(matches!(
        decode_handshake_response(b"nope\x1e", 1024),
        Err(HandshakeError::Json { .. })
    ));
    assert!(matches!(
        decode_handshake_response(&[b' '; 100], 10),
        Err(HandshakeError::TooLarge { max: 10 })
    ));
}

#[test]
fn negotiate_answers() {
    let v1 = br#"{"connectionId":"807809a5-31bf-470d-9e23-afaee35d8a0d","connectionToken":"05265228-1e2c-46c5-82a1-6a5bcc3f0143","negotiateVersion":1,"availableTransports":[{"transport":"WebSockets","transferFormats":["Text","Binary"]},{"transport":"ServerSentEvents","transferFormats":["Text"]},{"transport":"LongPolling","transferFormats":["Text","Binary"]},{"transport":"Carrier pigeon","transferFormats":["Text"]}]}"#;
    let NegotiateResponse::Connect(n) = decode_negotiate_response(v1).unwrap() else {
        panic!()
    };
    assert_eq!(n.url_id(), Some("05265228-1e2c-46c5-82a1-6a5bcc3f0143"));
    assert_eq!(
        n.connection_id.as_deref(),
        Some("807809a5-31bf-470d-9e23-afaee35d8a0d")
    );
    assert_eq!(n.available_transports.len(), 3);
    let all = [
        HttpTransportType::WebSockets,
        HttpTransportType::ServerSentEvents,
        HttpTransportType::LongPolling,
    ];
    assert_eq!(
        transport_order(&n.available_transports, &all, TransferFormat::Text),
        all
    );
    assert_eq!(
        transport_order(&n.available_transports, &all, TransferFormat::Binary),
        [
            HttpTransportType::WebSockets,
            HttpTransportType::LongPolling
        ]
    );
    assert_eq!(
        transport_order(
            &n.available_transports,
            &[HttpTransportType::LongPolling],
            TransferFormat::Text
        ),
        [HttpTransportType::LongPolling]
    );

    let v0 = br#"{"connectionId":"abc","availableTransports":[{"transport":"LongPolling","transferFormats":["Text"]}]}"#;
    let NegotiateResponse::Connect(n) = decode_negotiate_response(v0).unwrap() else {
        panic!()
    };
    assert_eq!((n.negotiate_version, n.url_id()), (0, Some("abc")));
    assert_eq!(
        n.available_transports,
        [AvailableTransport {
            transport: HttpTransportType::LongPolling,
            transfer_formats: vec![TransferFormat::Text]
        }]
    );

    assert_eq!(
        decode_negotiate_response(br#"{"url":"https://x/chat","accessToken":"t"}"#).unwrap(),
        NegotiateResponse::Redirect {
            url: "https://x/chat".into(),
            access_token: Some("t".into())
        }
    );
    assert_eq!(
        decode_negotiate_response(br#"{"error":"no"}"#).unwrap(),
        NegotiateResponse::Error("no".into())
    );
    assert!(matches!(
        decode_negotiate_response(br#"{"Url":"/signalr","ProtocolVersion":"2.0"}"#).unwrap(),
        NegotiateResponse::Classic { .. }
    ));
    assert!(decode_negotiate_response(b"<html>").is_err());
    let stateful = br#"{"connectionId":"a","connectionToken":"b","negotiateVersion":1,"useStatefulReconnect":true}"#;
    let NegotiateResponse::Connect(n) = decode_negotiate_response(stateful).unwrap() else {
        panic!()
    };
    assert!(n.use_stateful_reconnect);
}

#[test]
fn negotiate_and_connect_urls() {
    assert_eq!(
        negotiate_url("http://h/hub", false),
        ("http://h/hub/negotiate?negotiateVersion=1".into(), false)
    );
    assert_eq!(
        negotiate_url("http://h/hub/", true),
        (
            "http://h/hub/negotiate?negotiateVersion=1&useStatefulReconnect=true".into(),
            true
        )
    );
    assert_eq!(
        negotiate_url("http://h/hub?a=b#frag", false),
        (
            "http://h/hub/negotiate?a=b&negotiateVersion=1".into(),
            false
        )
    );
    assert_eq!(
        negotiate_url("http://h/hub?negotiateVersion=0", false).0,
        "http://h/hub/negotiate?negotiateVersion=0"
    );
    assert_eq!(
        connect_url("http://h/hub", Some("a b")),
        "http://h/hub?id=a+b"
    );
    assert_eq!(
        connect_url("http://h/hub?x=1", Some("t")),
        "http://h/hub?x=1&id=t"
    );
    assert_eq!(connect_url("http://h/hub", None), "http://h/hub");
    assert_eq!(
        websocket_url("https://h/hub?id=1").as_deref(),
        Some("wss://h/hub?id=1")
    );
    assert_eq!(websocket_url("HTTP://h/hub").as_deref(), Some("ws://h/hub"));
    assert_eq!(websocket_url("ftp://h"), None);
}

#[test]
fn server_sent_events_as_signalr_servers_send_them() {
    let mut sse = SseDecoder::new(1024);
    let mut events = Vec::new();
    let stream = b":\r\ndata: {}\x1e\r\n\r\ndata: {\"type\":3,\"invocationId\":\"1\",\"result\":42}\x1e\r\n\r\n";
    // Fed a byte at a time, every CR/LF split included.
    for b in stream {
        sse.feed(std::slice::from_ref(b), &mut events).unwrap();
    }
    assert_eq!(
        events,
        vec![
            b"{}\x1e".to_vec(),
            b"{\"type\":3,\"invocationId\":\"1\",\"result\":42}\x1e".to_vec()
        ]
    );

    let mut sse = SseDecoder::new(1024);
    let mut events = Vec::new();
    sse.feed(
        b"\xEF\xBB\xBFdata:a\ndata:b\revent: x\nid: 1\n\ndata\n\n: c\n\ndata: tail",
        &mut events,
    )
    .unwrap();
    assert_eq!(events, vec![b"a\nb".to_vec(), b"".to_vec()]);

    let mut sse = SseDecoder::new(8);
    assert!(sse.feed(b"data: 0123456789", &mut Vec::new()).is_err());
}
