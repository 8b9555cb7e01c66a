//! `sio decode`, driven as a built binary: every frame of the protocol reference
//! (`shared/reference/protocols.md`) and of the seed pages, bad input, stdin, `--json`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::panic
)]

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::prelude::*;
use serde_json::{Value, json};

/// Runs `sio decode --json <frames>`; returns the JSON lines and the exit code.
fn decode_json(frames: &[&str]) -> (Vec<Value>, i32) {
    let output = cargo_bin_cmd!("sio")
        .arg("decode")
        .arg("--json")
        .args(frames)
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    (lines, output.status.code().unwrap())
}

/// Decodes one frame that must decode, and checks the values at the given JSON pointers.
fn check(frame: &str, protocol: &str, expected: &[(&str, Value)]) -> Value {
    let (reports, code) = decode_json(&["--", frame]);
    assert_eq!(reports.len(), 1, "{frame}: {reports:?}");
    let report = reports.into_iter().next().unwrap();
    assert_eq!(code, 0, "{frame}: {report:#}");
    assert_eq!(report["ok"], true, "{frame}: {report:#}");
    assert_eq!(report["protocol"], protocol, "{frame}: {report:#}");
    for (pointer, value) in expected {
        assert_eq!(
            report.pointer(pointer),
            Some(value),
            "{frame}: {pointer} in {report:#}"
        );
    }
    report
}

fn eio(frame: &str, expected: &[(&str, Value)]) -> Value {
    check(frame, "engine.io", expected)
}

#[test]
fn engine_io_v4_frames() {
    let open = eio(
        r#"0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000,"maxPayload":1000000}"#,
        &[
            ("/packets/0/engineio/name", json!("open")),
            ("/packets/0/engineio/revision", json!("v4")),
            (
                "/packets/0/engineio/handshake/sid",
                json!("lv_VI97HAXpY6yYWAAAC"),
            ),
            ("/packets/0/engineio/handshake/maxPayload", json!(1000000)),
        ],
    );
    // The handshake keeps the wire's key order.
    let keys: Vec<&String> = open["packets"][0]["engineio"]["handshake"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(keys.len(), 5);
    eio(
        "2probe",
        &[
            ("/packets/0/engineio/name", json!("ping")),
            ("/packets/0/engineio/data", json!("probe")),
        ],
    );
    eio("3probe", &[("/packets/0/engineio/name", json!("pong"))]);
    eio("2", &[("/packets/0/engineio/type", json!(2))]);
    eio("3", &[("/packets/0/engineio/type", json!(3))]);
    eio("1", &[("/packets/0/engineio/name", json!("close"))]);
    eio("5", &[("/packets/0/engineio/name", json!("upgrade"))]);
    eio("6", &[("/packets/0/engineio/name", json!("noop"))]);
    eio(
        "4hello\x1ebAQIDBA==",
        &[
            ("/packets/0/engineio/data", json!("hello")),
            ("/packets/1/engineio/binary", json!(true)),
            ("/packets/1/engineio/data/base64", json!("AQIDBA==")),
            ("/packets/1/engineio/revision", json!("v4")),
        ],
    );
    // The record separator typed by a person, both ways.
    for frame in [
        r#"42["hello"]\x1e42["world"]"#,
        r#"42["hello"]\u001e42["world"]"#,
    ] {
        let report = eio(
            frame,
            &[
                ("/packets/0/socketio/event", json!("hello")),
                ("/packets/1/socketio/event", json!("world")),
            ],
        );
        assert!(report["notes"].to_string().contains("typed escapes"));
    }
}

#[test]
fn engine_io_error_answers() {
    for (code, message) in [
        (0, "Transport unknown"),
        (1, "Session ID unknown"),
        (2, "Bad handshake method"),
        (3, "Bad request"),
        (4, "Forbidden"),
        (5, "Unsupported protocol version"),
    ] {
        let frame = json!({"code": code, "message": message}).to_string();
        let report = eio(
            &frame,
            &[("/packets/0/engineio/name", json!("error answer"))],
        );
        assert!(
            report["packets"][0]["notes"][0]
                .as_str()
                .unwrap()
                .contains(message)
        );
    }
}

#[test]
fn engine_io_v3_payloads() {
    // The seed's example: 96 is the length of the open packet in UTF-16 code units.
    eio(
        r#"96:0{"sid":"hLOEJXN07AE0GQCNAAAB","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000}2:40"#,
        &[
            ("/packets/0/engineio/revision", json!("v3")),
            ("/packets/0/engineio/handshake/pingTimeout", json!(5000)),
            ("/packets/1/socketio/name", json!("CONNECT")),
            ("/packets/1/socketio/protocol", json!("v4")),
        ],
    );
    eio(
        "6:4hello2:4€",
        &[
            ("/packets/0/engineio/data", json!("hello")),
            ("/packets/1/engineio/data", json!("€")),
        ],
    );
    eio(
        "10:b4AQIDBA==",
        &[
            ("/packets/0/engineio/binary", json!(true)),
            ("/packets/0/engineio/data/length", json!(4)),
        ],
    );
    // XHR2 binary payload, given as hex.
    eio(
        "hex:0006ff3468656c6c6f0105ff0401020304",
        &[
            ("/packets/0/engineio/data", json!("hello")),
            ("/packets/1/engineio/data/base64", json!("AQIDBA==")),
        ],
    );
    // JSONP answer and the client's form POST.
    eio(
        r#"___eio[4]("6:4hello");"#,
        &[("/packets/0/engineio/data", json!("hello"))],
    );
    eio(
        "d=6%3A4hello",
        &[("/packets/0/engineio/data", json!("hello"))],
    );
    let report = eio(
        r#"0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000}"#,
        &[("/packets/0/engineio/revision", json!("v3"))],
    );
    assert!(report.to_string().contains("no maxPayload"));
}

#[test]
fn socket_io_v5_packets() {
    eio(
        r#"40{"sid":"wZX3oN0bSVIhsaknAAAI"}"#,
        &[
            ("/packets/0/socketio/name", json!("CONNECT")),
            ("/packets/0/socketio/protocol", json!("v5")),
            (
                "/packets/0/socketio/data/sid",
                json!("wZX3oN0bSVIhsaknAAAI"),
            ),
        ],
    );
    eio(
        r#"40{"sid":"a","pid":"b"}"#,
        &[("/packets/0/socketio/data/pid", json!("b"))],
    );
    eio(
        r#"40/admin,{"sid":"-G5j-67EZFp-q59rADQM"}"#,
        &[("/packets/0/socketio/namespace", json!("/admin"))],
    );
    eio(
        "40/admin,",
        &[
            ("/packets/0/socketio/name", json!("CONNECT")),
            ("/packets/0/socketio/namespace", json!("/admin")),
        ],
    );
    eio(
        r#"44/random,{"message":"Invalid namespace"}"#,
        &[
            ("/packets/0/socketio/name", json!("CONNECT_ERROR")),
            ("/packets/0/socketio/namespace", json!("/random")),
            (
                "/packets/0/socketio/data/message",
                json!("Invalid namespace"),
            ),
        ],
    );
    eio(
        r#"42["hey","Jude"]"#,
        &[
            ("/packets/0/engineio/name", json!("message")),
            ("/packets/0/socketio/type", json!(2)),
            ("/packets/0/socketio/name", json!("EVENT")),
            ("/packets/0/socketio/namespace", json!("/")),
            ("/packets/0/socketio/event", json!("hey")),
            ("/packets/0/socketio/args", json!(["Jude"])),
            ("/packets/0/socketio/attachments", json!(0)),
        ],
    );
    eio(
        r#"42["message",1,"2",{"3":[true]}]"#,
        &[("/packets/0/socketio/args", json!([1, "2", {"3": [true]}]))],
    );
    eio(
        r#"42456["message-with-ack",1,"2",{"3":[false]}]"#,
        &[
            ("/packets/0/socketio/ack_id", json!(456)),
            ("/packets/0/socketio/event", json!("message-with-ack")),
        ],
    );
    eio(
        r#"43456[1,"2",{"3":[false]}]"#,
        &[
            ("/packets/0/socketio/name", json!("ACK")),
            ("/packets/0/socketio/ack_id", json!(456)),
            ("/packets/0/socketio/args", json!([1, "2", {"3": [false]}])),
        ],
    );
    eio(
        r#"42/admin,1["tellme"]"#,
        &[
            ("/packets/0/socketio/namespace", json!("/admin")),
            ("/packets/0/socketio/ack_id", json!(1)),
        ],
    );
    eio("41", &[("/packets/0/socketio/name", json!("DISCONNECT"))]);
    // Key order of the arguments is the frame's (serde_json's Value would sort it: look at the
    // raw output).
    cargo_bin_cmd!("sio")
        .args([
            "decode",
            "--json",
            r#"42["price_tick",{"symbol":"BTC","price":42000}]"#,
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            r#""args":[{"symbol":"BTC","price":42000}]"#,
        ));
}

#[test]
fn socket_io_v4_packets() {
    eio(
        "40/admin?token=1234,",
        &[
            ("/packets/0/socketio/protocol", json!("v4")),
            ("/packets/0/socketio/namespace", json!("/admin")),
            ("/packets/0/socketio/query", json!("token=1234")),
        ],
    );
    eio(
        r#"44/admin,"Not authorized""#,
        &[
            ("/packets/0/socketio/name", json!("ERROR")),
            ("/packets/0/socketio/protocol", json!("v4")),
            ("/packets/0/socketio/data", json!("Not authorized")),
        ],
    );
    let report = eio("40", &[("/packets/0/socketio/name", json!("CONNECT"))]);
    assert!(report.to_string().contains("v5 servers answer with a sid"));
}

#[test]
fn binary_placeholders() {
    let report = eio(
        r#"451-["ev",{"_placeholder":true,"num":0}]"#,
        &[
            ("/packets/0/socketio/name", json!("BINARY_EVENT")),
            ("/packets/0/socketio/attachments", json!(1)),
            (
                "/packets/0/socketio/args",
                json!([{"_placeholder": true, "num": 0}]),
            ),
        ],
    );
    assert!(report.to_string().contains("1 binary attachment expected"));
    eio(
        r#"461-/admin,1[{"_placeholder":true,"num":0}]"#,
        &[
            ("/packets/0/socketio/name", json!("BINARY_ACK")),
            ("/packets/0/socketio/namespace", json!("/admin")),
            ("/packets/0/socketio/ack_id", json!(1)),
        ],
    );
    eio(
        r#"452-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
        &[
            ("/packets/0/socketio/attachments", json!(2)),
            ("/packets/0/socketio/ack_id", json!(789)),
        ],
    );
    eio(
        r#"462-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
        &[("/packets/0/socketio/name", json!("BINARY_ACK"))],
    );

    // In one polling payload: the attachment completes the packet.
    eio(
        "451-[\"ev\",{\"_placeholder\":true,\"num\":0}]\x1ebAQID",
        &[
            ("/packets/1/socketio/event", json!("ev")),
            (
                "/packets/1/socketio/args/0",
                json!({"_binary": true, "length": 3, "base64": "AQID"}),
            ),
        ],
    );

    // Over WebSocket the attachments come as binary frames: given after the header as
    // `b<base64>`, `hex:`, `base64:` or bare hex/base64.
    let (reports, code) = decode_json(&[
        r#"452-["ev",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
        "hex:0a0b",
        "AQID",
    ]);
    assert_eq!(code, 0, "{reports:#?}");
    assert!(
        reports[1]["packets"][0]["notes"][0]
            .as_str()
            .unwrap()
            .contains("attachment 1 of 2")
    );
    let done = &reports[2]["packets"][0]["socketio"];
    assert_eq!(done["event"], "ev");
    assert_eq!(done["args"][0]["base64"], "Cgs=");
    assert_eq!(done["args"][1]["base64"], "AQID");

    // A placeholder the header does not announce is the decoder's error.
    let (reports, code) = decode_json(&[r#"451-["ev",{"_placeholder":true,"num":3}]"#]);
    assert_eq!(code, 1);
    assert!(
        reports[0]["packets"][0]["error"]
            .as_str()
            .unwrap()
            .contains("placeholder refers to attachment 3")
    );
}

#[test]
fn msgpack_parser_packets() {
    // Made by socket.io-msgpack-parser 3.0.2: {type:2,nsp:"/",data:["hey","Jude"]} as hex, and
    // {type:2,nsp:"/chat",data:["file",<01 02 03>],id:7} as base64.
    eio(
        "83a47479706502a36e7370a12fa46461746192a3686579a44a756465",
        &[
            ("/packets/0/engineio/binary", json!(true)),
            ("/packets/0/socketio/parser", json!("msgpack")),
            ("/packets/0/socketio/event", json!("hey")),
            ("/packets/0/socketio/args", json!(["Jude"])),
        ],
    );
    eio(
        "hKR0eXBlAqNuc3ClL2NoYXSkZGF0YZKkZmlsZcQDAQIDomlkBw==",
        &[
            ("/packets/0/socketio/namespace", json!("/chat")),
            ("/packets/0/socketio/ack_id", json!(7)),
            ("/packets/0/socketio/args/0/base64", json!("AQID")),
        ],
    );
    // Inside a v4 polling body.
    eio(
        "bg6R0eXBlAKNuc3ChL6RkYXRhgaNzaWSjYWJj",
        &[
            ("/packets/0/socketio/name", json!("CONNECT")),
            ("/packets/0/socketio/data/sid", json!("abc")),
        ],
    );
    // --msgpack says why something is not a msgpack packet.
    let (reports, code) = decode_json(&["--msgpack", "hex:8300"]);
    assert_eq!(code, 1);
    assert!(
        reports[0]["packets"][0]["error"]
            .as_str()
            .unwrap()
            .contains("truncated msgpack at byte 2")
    );
}

#[test]
fn socket_io_0_9_messages() {
    let legacy = |frame: &str, expected: &[(&str, Value)]| check(frame, "socket.io-0.9", expected);
    legacy(
        "1::/chat?my=param",
        &[("/packets/0/legacy/name", json!("connect"))],
    );
    let report = legacy("2::", &[("/packets/0/legacy/name", json!("heartbeat"))]);
    // `2::` is also an Engine.IO ping with data "::": shown as the less likely reading.
    assert!(report["alternatives"][0].as_str().unwrap().contains("ping"));
    legacy(
        "3:::text",
        &[
            ("/packets/0/legacy/name", json!("message")),
            ("/packets/0/legacy/data", json!("text")),
        ],
    );
    legacy(
        r#"4:::{"a":"b"}"#,
        &[("/packets/0/legacy/data", json!({"a": "b"}))],
    );
    legacy(
        r#"5:1+:/chat:{"name":"join","args":[{"room":1}]}"#,
        &[
            ("/packets/0/legacy/name", json!("event")),
            ("/packets/0/legacy/id", json!(1)),
            ("/packets/0/legacy/ack", json!("user")),
            ("/packets/0/legacy/endpoint", json!("/chat")),
            ("/packets/0/legacy/event", json!("join")),
            ("/packets/0/legacy/args", json!([{"room": 1}])),
        ],
    );
    legacy(
        r#"6:::1+["ok"]"#,
        &[
            ("/packets/0/legacy/name", json!("ack")),
            ("/packets/0/legacy/ack_id", json!(1)),
            ("/packets/0/legacy/args", json!(["ok"])),
        ],
    );
    legacy(
        "0::/chat",
        &[
            ("/packets/0/legacy/name", json!("disconnect")),
            ("/packets/0/legacy/endpoint", json!("/chat")),
        ],
    );
    legacy(
        "7:::reason+advice",
        &[
            ("/packets/0/legacy/reason", json!("reason")),
            ("/packets/0/legacy/advice", json!("advice")),
        ],
    );
    legacy("8::", &[("/packets/0/legacy/name", json!("noop"))]);
    for frame in [
        "\u{fffd}5\u{fffd}3:::5\u{fffd}3\u{fffd}2::",
        r"\ufffd5\ufffd3:::5\ufffd3\ufffd2::",
    ] {
        legacy(
            frame,
            &[
                ("/packets/0/legacy/data", json!("5")),
                ("/packets/1/legacy/name", json!("heartbeat")),
            ],
        );
    }
    legacy(
        "Fh9EeeuAekJ_tQtguLVj:60:60:websocket,htmlfile,xhr-polling,jsonp-polling",
        &[
            ("/packets/0/legacy/name", json!("handshake")),
            ("/packets/0/legacy/data/heartbeatTimeout", json!(60)),
            (
                "/packets/0/legacy/data/transports/3",
                json!("jsonp-polling"),
            ),
        ],
    );
    legacy(
        r#"io.j[0]("3:::hi");"#,
        &[("/packets/0/legacy/data", json!("hi"))],
    );
}

#[test]
fn signalr_frames() {
    let signalr = |frame: &str, expected: &[(&str, Value)]| check(frame, "signalr", expected);
    signalr(
        "{\"protocol\":\"json\",\"version\":1}\x1e",
        &[("/packets/0/signalr/name", json!("handshake request"))],
    );
    signalr(
        r"{}\x1e",
        &[("/packets/0/signalr/name", json!("handshake response"))],
    );
    signalr(
        r#"{"type":1,"target":"send","arguments":["hi",{"b":1,"a":2}]}\u001e"#,
        &[
            ("/packets/0/signalr/type", json!(1)),
            ("/packets/0/signalr/name", json!("Invocation")),
            ("/packets/0/signalr/fields/target", json!("send")),
        ],
    );
    for (frame, name) in [
        (r#"{"type":2,"invocationId":"1","item":5}"#, "StreamItem"),
        (r#"{"type":3,"invocationId":"1","result":42}"#, "Completion"),
        (
            r#"{"type":4,"invocationId":"2","target":"counter","arguments":[10]}"#,
            "StreamInvocation",
        ),
        (r#"{"type":5,"invocationId":"2"}"#, "CancelInvocation"),
        (r#"{"type":6}"#, "Ping"),
        (r#"{"type":7,"error":"bye","allowReconnect":true}"#, "Close"),
    ] {
        let report = signalr(
            &format!("{frame}\x1e"),
            &[("/packets/0/signalr/name", json!(name))],
        );
        assert!(report.get("notes").is_none(), "{report:#}");
    }
    // Several records in one frame; a missing final separator is pointed out.
    let report = signalr(
        "{\"type\":6}\x1e{\"type\":1,\"target\":\"x\",\"arguments\":[]}",
        &[("/packets/1/signalr/name", json!("Invocation"))],
    );
    assert!(report["notes"][0].as_str().unwrap().contains("no \\x1e"));
    signalr(
        r#"{"negotiateVersion":1,"connectionId":"abc","connectionToken":"def","availableTransports":[{"transport":"WebSockets","transferFormats":["Text","Binary"]}]}"#,
        &[("/packets/0/signalr/name", json!("negotiate answer"))],
    );
}

#[test]
fn seed_frames() {
    // Seed 0: DevTools signs of Socket.IO.
    eio(
        r#"42["hello","world"]"#,
        &[("/packets/0/socketio/args", json!(["world"]))],
    );
    // Seed 2: a WriteData example, with a space after the comma.
    eio(
        r#"42["add user", "John"]"#,
        &[
            ("/packets/0/socketio/event", json!("add user")),
            ("/packets/0/socketio/args", json!(["John"])),
        ],
    );
    // Seed 1: a whole sample session.
    let session = [
        r#"0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000,"maxPayload":1000000}"#,
        "40",
        r#"40{"sid":"wZX3oN0bSVIhsaknAAAI"}"#,
        r#"42["hey","Jude"]"#,
        r#"42["hello"]\x1e42["world"]"#,
        "2probe",
        "3probe",
        "5",
        r#"42["hello"]"#,
        "40/admin,",
        r#"40/admin,{"sid":"-G5j-67EZFp-q59rADQM"}"#,
        r#"42/admin,1["tellme"]"#,
        r#"461-/admin,1[{"_placeholder":true,"num":0}]"#,
        "b3q2+7w==",
        "2",
        "3",
        "1",
    ];
    let (reports, code) = decode_json(&session);
    assert_eq!(code, 0, "{reports:#?}");
    assert_eq!(reports.len(), session.len());
    assert!(reports.iter().all(|r| r["ok"] == true));
    let ack = &reports[13]["packets"][0]["socketio"];
    assert_eq!(ack["name"], "BINARY_ACK");
    assert_eq!(ack["args"][0]["base64"], "3q2+7w==");
}

#[test]
fn bad_frames_say_what_and_where_and_decoding_goes_on() {
    let (reports, code) = decode_json(&[
        "hello",
        r#"42/chat,[“join”,”{room:1}"]"#,
        "42{}",
        r#"42["connect"]"#,
        r#"96:0{"sid""#,
        r#"5:1+:/chat:{"name":"join""#,
        r#"{"type":99}"#,
        "\u{fffd}9\u{fffd}2::",
        "",
        r#"42["still","works"]"#,
    ]);
    assert_eq!(code, 1);
    assert_eq!(reports.len(), 10);
    let error = |i: usize| -> String {
        let r = &reports[i];
        r["error"]
            .as_str()
            .or_else(|| r["packets"][0]["error"].as_str())
            .unwrap_or_else(|| panic!("no error in {r:#}"))
            .to_owned()
    };
    assert!(
        error(0).contains("unknown packet type 0x68 at byte 0"),
        "{}",
        error(0)
    );
    assert!(
        error(1).contains("invalid JSON payload at byte 8"),
        "{}",
        error(1)
    );
    assert!(error(1).contains("typographic quotes"));
    assert!(error(2).contains("invalid EVENT payload"), "{}", error(2));
    assert!(
        error(3).contains("reserved event name \"connect\""),
        "{}",
        error(3)
    );
    assert!(error(4).contains("byte"), "{}", error(4));
    assert!(error(5).contains("invalid JSON"), "{}", error(5));
    assert!(
        error(6).contains("unknown SignalR message type 99"),
        "{}",
        error(6)
    );
    assert!(
        error(7).contains("declares 9 UTF-16 code units"),
        "{}",
        error(7)
    );
    assert!(error(8).contains("empty frame"));
    assert_eq!(reports[9]["ok"], true);
    assert!(reports[..9].iter().all(|r| r["ok"] == false));
}

#[test]
fn stdin_one_frame_per_line() {
    cargo_bin_cmd!("sio")
        .args(["decode", "--json"])
        .write_stdin("40\r\n\n  42[\"a\",1]  \n2probe\n")
        .assert()
        .success()
        .stdout(predicate::str::contains(r#""frame":"40","#))
        .stdout(predicate::str::contains(r#""event":"a""#))
        .stdout(predicate::str::contains(r#""data":"probe""#))
        .stdout(predicate::function(|s: &str| s.lines().count() == 3));
    cargo_bin_cmd!("sio")
        .arg("decode")
        .write_stdin(b"42[\"a\"]\n\xff\xfe\n".to_vec())
        .assert()
        .code(1)
        .stdout(predicate::str::contains("line 2 is not UTF-8"));
    cargo_bin_cmd!("sio")
        .arg("decode")
        .write_stdin("")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no frames given"));
}

#[test]
fn human_breakdown() {
    cargo_bin_cmd!("sio")
        .args(["decode", r#"42["hey","Jude"]"#, "2::"])
        .env_remove("NO_COLOR")
        .assert()
        .success()
        .stdout(predicate::str::contains("engine.io     4 message"))
        .stdout(predicate::str::contains("socket.io     2 EVENT"))
        .stdout(predicate::str::contains("event         hey"))
        .stdout(predicate::str::contains(r#"args (1)      [0] "Jude""#))
        .stdout(predicate::str::contains("socket.io 0.9 2 heartbeat"))
        .stdout(predicate::str::contains(
            r#"also reads as Engine.IO 2 ping with data "::""#,
        ))
        // Not a terminal: no colours.
        .stdout(predicate::str::contains("\x1b[").not());
    cargo_bin_cmd!("sio")
        .args(["decode", "nonsense"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("error"))
        .stderr(predicate::str::contains(
            "1 of 1 frame(s) could not be decoded",
        ));
}

#[test]
fn help_has_examples() {
    cargo_bin_cmd!("sio")
        .args(["decode", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Examples:"))
        .stdout(predicate::str::contains(
            "sio decode '42[\"hey\",\"Jude\"]'",
        ))
        .stdout(predicate::str::contains("Exit status"));
    cargo_bin_cmd!("sio")
        .args(["decode", "--no-such-flag"])
        .assert()
        .code(2);
}
