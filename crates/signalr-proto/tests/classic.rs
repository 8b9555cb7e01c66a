//! Classic ASP.NET SignalR 2.x shapes, as the jQuery client 2.4 and the server exchange them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use sio_signalr_proto::Value;
use sio_signalr_proto::classic::{
    ClassicFrame, ClassicItem, ClassicQuery, ClassicTransport, classic_send_body, classic_url,
    connection_data, decode_classic_frame, decode_classic_negotiate, encode_classic_hub_call,
};

#[test]
fn negotiate_answer() {
    let body = br#"{"Url":"/signalr","ConnectionToken":"tok","ConnectionId":"id","KeepAliveTimeout":20.0,"DisconnectTimeout":30.0,"ConnectionTimeout":110.0,"TryWebSockets":true,"ProtocolVersion":"2.0","TransportConnectTimeout":5.0,"LongPollDelay":0.0}"#;
    let n = decode_classic_negotiate(body).unwrap();
    assert_eq!(n.connection_token.as_deref(), Some("tok"));
    assert_eq!(n.keep_alive_timeout, Some(20.0));
    assert_eq!(n.protocol_version.as_deref(), Some("2.0"));
    assert_eq!(n.try_web_sockets, Some(true));
    let redirect = decode_classic_negotiate(
        br#"{"ProtocolVersion":"2.0","RedirectUrl":"https://x/signalr","AccessToken":"t"}"#,
    )
    .unwrap();
    assert_eq!(redirect.redirect_url.as_deref(), Some("https://x/signalr"));
    assert!(decode_classic_negotiate(b"[").is_err());
}

#[test]
fn urls_and_bodies() {
    let data = connection_data(["ChatHub"]);
    assert_eq!(data, r#"[{"name":"chathub"}]"#);
    assert_eq!(
        classic_url(
            "http://h/signalr",
            "negotiate",
            &ClassicQuery {
                connection_data: Some(&data),
                ..Default::default()
            }
        ),
        "http://h/signalr/negotiate?clientProtocol=2.1&connectionData=%5B%7B%22name%22%3A%22chathub%22%7D%5D"
    );
    let q = ClassicQuery {
        transport: Some(ClassicTransport::LongPolling),
        connection_token: Some("a/b"),
        connection_data: Some(&data),
        message_id: Some("d-1,0"),
        groups_token: Some("g"),
        tid: Some(3),
    };
    assert_eq!(
        classic_url("http://h/signalr/?x=1", "reconnect", &q),
        "http://h/signalr/reconnect?clientProtocol=2.1&transport=longPolling&connectionData=%5B%7B%22name%22%3A%22chathub%22%7D%5D&connectionToken=a%2Fb&messageId=d-1%2C0&groupsToken=g&tid=3&x=1"
    );
    assert_eq!(
        classic_send_body(r#"{"H":"a"}"#),
        "data=%7B%22H%22%3A%22a%22%7D"
    );
    let call =
        encode_classic_hub_call("chathub", "Echo", &[Value::json("x").unwrap()], 0, None).unwrap();
    assert_eq!(call, r#"{"H":"chathub","M":"Echo","A":["x"],"I":0}"#);
}

#[test]
fn envelopes_results_keep_alives() {
    assert_eq!(
        decode_classic_frame(b"{}", 1024).unwrap(),
        ClassicFrame::KeepAlive
    );
    let ClassicFrame::Envelope(init) =
        decode_classic_frame(br#"{"C":"d-5A2F1B3C-A,0|B,0|C,1","S":1,"M":[]}"#, 1024).unwrap()
    else {
        panic!()
    };
    assert!(init.initialized);
    assert_eq!(init.cursor.as_deref(), Some("d-5A2F1B3C-A,0|B,0|C,1"));

    let ClassicFrame::Envelope(data) = decode_classic_frame(
        br#"{"C":"d-1,2","G":"gt","M":[{"H":"ChatHub","M":"tick","A":[0]},"raw"]}"#,
        1024,
    )
    .unwrap() else {
        panic!()
    };
    assert_eq!(data.groups_token.as_deref(), Some("gt"));
    let ClassicItem::HubCall(call) = &data.messages[0] else {
        panic!()
    };
    assert_eq!(
        (call.hub.as_str(), call.method.as_str()),
        ("ChatHub", "tick")
    );
    assert_eq!(call.arguments[0].deserialize::<i32>().unwrap(), 0);
    assert!(matches!(&data.messages[1], ClassicItem::Raw(_)));

    let ClassicFrame::Envelope(stop) =
        decode_classic_frame(br#"{"T":1,"E":"gone"}"#, 1024).unwrap()
    else {
        panic!()
    };
    assert!(stop.reconnect);
    assert_eq!(stop.error.as_deref(), Some("gone"));

    let ClassicFrame::HubResult(r) = decode_classic_frame(br#"{"I":"0","R":"x"}"#, 1024).unwrap()
    else {
        panic!()
    };
    assert_eq!(
        (
            r.invocation_id.as_str(),
            r.result.unwrap().deserialize::<String>().unwrap().as_str()
        ),
        ("0", "x")
    );
    let ClassicFrame::HubResult(r) =
        decode_classic_frame(br#"{"I":"1","E":"boom","H":true,"D":{"code":7}}"#, 1024).unwrap()
    else {
        panic!()
    };
    assert_eq!((r.error.as_deref(), r.hub_error), (Some("boom"), true));
    assert_eq!(
        r.error_data.unwrap().to_json().unwrap(),
        serde_json::json!({"code": 7})
    );
    let ClassicFrame::HubResult(r) =
        decode_classic_frame(br#"{"I":"P|2","P":{"I":"2","D":50}}"#, 1024).unwrap()
    else {
        panic!()
    };
    let p = r.progress.unwrap();
    assert_eq!(
        (
            p.invocation_id.as_str(),
            p.data.deserialize::<u8>().unwrap()
        ),
        ("2", 50)
    );
    let ClassicFrame::HubResult(r) = decode_classic_frame(br#"{"I":3,"R":null}"#, 1024).unwrap()
    else {
        panic!()
    };
    assert_eq!(r.invocation_id, "3");
    assert!(r.result.is_some());

    assert!(decode_classic_frame(b"[1]", 1024).is_err());
    assert!(decode_classic_frame(&[b' '; 64], 10).is_err());
}
