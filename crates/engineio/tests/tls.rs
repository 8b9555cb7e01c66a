//! HTTPS and WSS: a server that terminates TLS with rustls itself and hands each decrypted
//! connection to `serve_connection`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::string_slice
)]

mod common;

use std::sync::Arc;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http::Request;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use sio_engineio::{Engine, EngineService};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};
use tokio_tungstenite::tungstenite::Message as WsMessage;

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A TLS server for `localhost` serving `engine`, and a client configuration that trusts it.
async fn tls_server(engine: Engine<common::Echo>) -> (u16, TlsConnector) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert = CertificateDer::from(certified.cert.der().to_vec());
    let key = PrivateKeyDer::try_from(certified.signing_key.serialize_der()).unwrap();

    let server_config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(server_config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let service = EngineService::new(engine);
    tokio::spawn(async move {
        while let Ok((stream, peer)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let service = service.clone();
            tokio::spawn(async move {
                if let Ok(tls) = acceptor.accept(stream).await {
                    sio_engineio::serve_connection(tls, peer, true, service).await;
                }
            });
        }
    });

    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).unwrap();
    let client_config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    (port, TlsConnector::from(Arc::new(client_config)))
}

async fn connect(
    port: u16,
    connector: &TlsConnector,
) -> tokio_rustls::client::TlsStream<TcpStream> {
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap()
}

#[tokio::test]
async fn polling_and_websocket_work_over_tls_and_sessions_know_they_are_secure() {
    let (events_tx, mut events) = tokio::sync::mpsc::unbounded_channel();
    let handler = common::Echo {
        events: Some(events_tx),
        ..Default::default()
    };
    let engine = Engine::new(common::suite_config(), handler);
    let (port, connector) = tls_server(engine.clone()).await;

    // HTTPS long-polling handshake.
    let tls = connect(port, &connector).await;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .unwrap();
    tokio::spawn(connection);
    let req = Request::get("/engine.io/?EIO=4&transport=polling")
        .header("host", "localhost")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let res = sender.send_request(req).await.unwrap();
    assert_eq!(res.status(), 200);
    let body = res.into_body().collect().await.unwrap().to_bytes();
    let text = std::str::from_utf8(&body).unwrap();
    assert!(text.starts_with("0{\"sid\":"), "{text}");
    let sid: serde_json::Value = serde_json::from_str(&text[1..]).unwrap();
    let sid = sid["sid"].as_str().unwrap().to_owned();
    let socket = engine.session(&sid).expect("the session is open");
    assert!(socket.request().secure);
    assert!(socket.request().remote_addr.is_some());

    // WSS: a session opened straight over WebSocket echoes.
    let tls = connect(port, &connector).await;
    let (mut ws, _) = tokio_tungstenite::client_async(
        format!("wss://localhost:{port}/engine.io/?EIO=4&transport=websocket"),
        tls,
    )
    .await
    .unwrap();
    let open = ws.next().await.unwrap().unwrap();
    assert!(open.to_text().unwrap().starts_with("0{"));
    ws.send(WsMessage::Text("4over tls".into())).await.unwrap();
    let echo = ws.next().await.unwrap().unwrap();
    assert_eq!(echo.to_text().unwrap(), "4over tls");
    // The handler saw the message from a secure session.
    let mut seen = false;
    while let Ok(Some(event)) =
        tokio::time::timeout(std::time::Duration::from_secs(3), events.recv()).await
    {
        if let common::Event::Message(id, bytes, false) = event {
            assert_eq!(bytes, b"over tls");
            assert!(engine.session(&id).unwrap().request().secure);
            seen = true;
            break;
        }
    }
    assert!(seen, "the handler received the WSS message");
}
