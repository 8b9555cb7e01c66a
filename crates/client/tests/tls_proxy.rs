//! TLS (rustls, `https://` and `wss://`) and an HTTP `CONNECT` proxy, against our own server
//! behind a TLS terminator and a proxy written here (a self-signed certificate made with the
//! `openssl` command).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::panic
)]

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{exercise, transport_of};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::json;
use sio_client::{Client, TransportKind};
use sio_server::{ServerConfig, SocketIo, SocketRef};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Our server with the parts of the contract `exercise` uses.
async fn backend() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let io = SocketIo::new(ServerConfig::default());
    io.on_connection(|socket: SocketRef| async move {
        let welcome = json!({"id": socket.id(), "nsp": "/", "conn": socket.conn().id()});
        socket.emit("welcome", &welcome).unwrap();
        socket.on(
            "echo",
            |socket: SocketRef, mut event: sio_server::Event| async move {
                let args = std::mem::take(&mut event.args);
                match event.ack.take() {
                    Some(ack) => ack.send_values(args).unwrap(),
                    None => socket.emit("echo", &args).unwrap(),
                }
            },
        );
        socket.on(
            "ask",
            |socket: SocketRef, mut event: sio_server::Event| async move {
                let args = std::mem::take(&mut event.args);
                tokio::spawn(async move {
                    let answer = socket.emit_with_ack("question", &args).await.unwrap();
                    socket.emit("answer", &answer).unwrap();
                });
            },
        );
        socket.on(
            "transport",
            |socket: SocketRef, mut event: sio_server::Event| async move {
                let name = socket.conn().transport().as_str().to_owned();
                if let Some(ack) = event.ack.take() {
                    ack.send(&(name,)).unwrap();
                }
            },
        );
    });
    tokio::spawn(async move {
        io.serve(listener, std::future::pending::<()>())
            .await
            .unwrap();
    });
    addr
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A self-signed certificate for `localhost` and 127.0.0.1.
fn certificate() -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    // Tests run in parallel: make the files once.
    static ONCE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = ONCE.lock().unwrap();
    let dir: PathBuf = std::env::temp_dir().join(format!("sio-client-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    if !cert.exists() {
        let status = std::process::Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=localhost",
            ])
            .args(["-addext", "basicConstraints=critical,CA:FALSE"])
            .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .stderr(std::process::Stdio::null())
            .status()
            .expect("the openssl command");
        assert!(status.success());
    }
    (
        CertificateDer::from_pem_file(&cert).unwrap(),
        PrivateKeyDer::from_pem_file(&key).unwrap(),
    )
}

/// Terminates TLS and forwards to `backend`.
async fn tls_terminator(backend: SocketAddr) -> (u16, Arc<rustls::ClientConfig>) {
    let (cert, key) = certificate();
    let server = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    return;
                };
                let mut upstream = TcpStream::connect(backend).await.unwrap();
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut upstream).await;
            });
        }
    });
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).unwrap();
    let client = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    (port, Arc::new(client))
}

/// An HTTP CONNECT proxy; counts the tunnels it opened.
async fn proxy() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let tunnels = Arc::new(AtomicUsize::new(0));
    let count = tunnels.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let count = count.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                while !head.ends_with(b"\r\n\r\n") {
                    let Ok(byte) = stream.read_u8().await else {
                        return;
                    };
                    head.push(byte);
                }
                let head = String::from_utf8(head).unwrap();
                let target = head
                    .strip_prefix("CONNECT ")
                    .unwrap()
                    .split(' ')
                    .next()
                    .unwrap()
                    .to_owned();
                let mut upstream = TcpStream::connect(target.replace("localhost", "127.0.0.1"))
                    .await
                    .unwrap();
                count.fetch_add(1, Ordering::SeqCst);
                stream
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await
                    .unwrap();
                let _ = tokio::io::copy_bidirectional(&mut stream, &mut upstream).await;
            });
        }
    });
    (port, tunnels)
}

fn with_question(builder: sio_client::ClientBuilder) -> sio_client::ClientBuilder {
    // `exercise` answers the server's "question" itself; each test gets its own connection.
    builder.force_new(true)
}

#[tokio::test]
async fn https_polling_then_wss() {
    let backend = backend().await;
    let (port, tls) = tls_terminator(backend).await;
    let builder =
        with_question(Client::builder(&format!("https://localhost:{port}/")).tls_config(tls));
    let (client, _) = exercise(builder, false).await;
    let mut transport = transport_of(&client).await;
    for _ in 0..50 {
        if transport == "websocket" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        transport = transport_of(&client).await;
    }
    assert_eq!(transport, "websocket");
    client.disconnect();
}

#[tokio::test]
async fn untrusted_certificate_is_refused() {
    let backend = backend().await;
    let (port, _) = tls_terminator(backend).await;
    // The default settings trust the webpki roots only.
    let result = Client::builder(&format!("https://localhost:{port}/"))
        .force_new(true)
        .reconnection(false)
        .connect()
        .await;
    assert!(result.is_err(), "{result:?}");
}

#[tokio::test]
async fn through_a_connect_proxy() {
    let backend = backend().await;
    let (proxy_port, tunnels) = proxy().await;
    let builder = with_question(
        Client::builder(&format!("http://{backend}/"))
            .proxy(&format!("http://127.0.0.1:{proxy_port}")),
    );
    let (client, _) = exercise(builder, false).await;
    assert!(tunnels.load(Ordering::SeqCst) >= 1);
    client.disconnect();
}

#[tokio::test]
async fn wss_through_a_connect_proxy() {
    let backend = backend().await;
    let (port, tls) = tls_terminator(backend).await;
    let (proxy_port, tunnels) = proxy().await;
    let builder = with_question(
        Client::builder(&format!("https://localhost:{port}/"))
            .tls_config(tls)
            .transports([TransportKind::WebSocket])
            .proxy(&format!("http://127.0.0.1:{proxy_port}")),
    );
    let (client, _) = exercise(builder, false).await;
    assert_eq!(tunnels.load(Ordering::SeqCst), 1);
    client.disconnect();
}
