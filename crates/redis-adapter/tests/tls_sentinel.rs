//! Connection options: `rediss://` (TLS, a private CA) for every adapter and the emitter, a URL
//! with a password, and the master of a Sentinel-monitored Redis. Every redis-server (and
//! sentinel) here is the test's own, on a free port, killed when the test ends.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::{
    path::PathBuf,
    process::Stdio,
    sync::atomic::{AtomicUsize, Ordering},
};

use common::{Clients, ClusterNode, STEP, any_free_port, until_answer, wait_listening};
use serde_json::json;
use sio_redis_adapter::{
    Emitter, PubSubConfig, RedisAdapter, RedisShardedAdapter, RedisStreamsAdapter, ShardedConfig,
    StreamsConfig, redis, sentinel_master_url,
};
use tokio::process::{Child, Command};

/// A directory of the test's own, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("sio-redis-{name}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn write(&self, file: &str, contents: &str) -> PathBuf {
        let path = self.0.join(file);
        std::fs::write(&path, contents).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A redis-server (or sentinel) run with `args`, listening on `port`; killed when dropped.
struct Server {
    port: u16,
    _child: Child,
}

impl Server {
    async fn start(port: u16, args: &[&str]) -> Server {
        let child = Command::new("redis-server")
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("could not run redis-server ({e}): install Redis 7 (apt-get install redis-server)")
            });
        wait_listening(port, "redis-server").await;
        Server {
            port,
            _child: child,
        }
    }

    /// A plain redis-server on a free port, with `extra` options.
    async fn plain(extra: &[&str]) -> Server {
        let port = any_free_port();
        let port_arg = port.to_string();
        let mut args = vec!["--port", &port_arg, "--bind", "127.0.0.1"];
        args.extend(["--save", "", "--appendonly", "no"]);
        args.extend(extra);
        Server::start(port, &args).await
    }
}

/// A private CA and a certificate it signed for 127.0.0.1 / localhost, as PEM files.
struct Certificates {
    dir: TempDir,
    ca_pem: String,
}

impl Certificates {
    fn generate() -> Certificates {
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "sio test CA");
        ca_params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
        ];
        let ca =
            rcgen::CertifiedIssuer::self_signed(ca_params, rcgen::KeyPair::generate().unwrap())
                .unwrap();
        let server_key = rcgen::KeyPair::generate().unwrap();
        let server_params =
            rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
                .unwrap();
        let server = server_params.signed_by(&server_key, &ca).unwrap();
        let dir = TempDir::new("tls");
        let ca_pem = ca.pem();
        dir.write("ca.pem", &ca_pem);
        dir.write("server.pem", &server.pem());
        dir.write("server.key", &server_key.serialize_pem());
        Certificates { dir, ca_pem }
    }

    fn path(&self, file: &str) -> String {
        self.dir.0.join(file).to_str().unwrap().to_owned()
    }

    /// The environment that makes a node's process trust the CA (read by rustls-native-certs).
    fn trust(&self) -> [(&'static str, String); 1] {
        [("SSL_CERT_FILE", self.path("ca.pem"))]
    }
}

/// A redis-server that accepts only TLS (no plain port), with the certificate of `certs`.
async fn tls_redis(certs: &Certificates) -> Server {
    let port = any_free_port();
    let port_arg = port.to_string();
    let (cert, key, ca) = (
        certs.path("server.pem"),
        certs.path("server.key"),
        certs.path("ca.pem"),
    );
    Server::start(
        port,
        &[
            "--port",
            "0",
            "--tls-port",
            &port_arg,
            "--bind",
            "127.0.0.1",
            "--tls-cert-file",
            &cert,
            "--tls-key-file",
            &key,
            "--tls-ca-cert-file",
            &ca,
            "--tls-auth-clients",
            "no",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
    )
    .await
}

/// Two Rust nodes on `url` with `adapter`: each joins a socket to room r1, the nodes count each
/// other, and a room broadcast from either node reaches the sockets of both.
async fn two_nodes_share_broadcasts(url: &str, adapter: &str, envs: &[(&str, &str)]) {
    let nodes = [
        ClusterNode::start_rust_at(url, adapter, "socket.io", envs).await,
        ClusterNode::start_rust_at(url, adapter, "socket.io", envs).await,
    ];
    let mut clients = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        let mut c = Clients::new(node).await;
        let s = format!("a{i}");
        c.connect(&s, json!({})).await;
        assert_eq!(c.ask(&s, "join", json!(["r1"])).await, json!(true));
        clients.push(c);
    }
    for (i, c) in clients.iter_mut().enumerate() {
        until_answer(c, &format!("a{i}"), "server-count", json!([]), json!(2)).await;
    }
    for i in 0..clients.len() {
        let from = format!("a{i}");
        let args = json!(["r1", "news", i, format!("{adapter} over {url}")]);
        assert_eq!(clients[i].ask(&from, "to-room", args).await, json!(true));
        for (j, c) in clients.iter_mut().enumerate() {
            let news = c.event(&format!("a{j}"), "news").await;
            assert_eq!(
                news["args"],
                json!([i, format!("{adapter} over {url}")]),
                "node {j} got the news of node {i}\n--- node {j} stderr ---\n{}",
                nodes[j].stderr()
            );
        }
    }
}

fn envs<'a>(pairs: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    pairs.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[tokio::test]
async fn pubsub_cluster_over_tls() {
    let certs = Certificates::generate();
    let redis = tls_redis(&certs).await;
    let url = format!("rediss://127.0.0.1:{}", redis.port);
    two_nodes_share_broadcasts(&url, "pubsub", &envs(&certs.trust())).await;
}

#[tokio::test]
async fn streams_cluster_over_tls() {
    let certs = Certificates::generate();
    let redis = tls_redis(&certs).await;
    let url = format!("rediss://127.0.0.1:{}", redis.port);
    two_nodes_share_broadcasts(&url, "streams", &envs(&certs.trust())).await;
}

#[tokio::test]
async fn sharded_cluster_over_tls() {
    let certs = Certificates::generate();
    let redis = tls_redis(&certs).await;
    let url = format!("rediss://127.0.0.1:{}", redis.port);
    two_nodes_share_broadcasts(&url, "sharded", &envs(&certs.trust())).await;
}

/// The certificate is verified: without the CA every adapter refuses the server; with the CA
/// given in code (`redis::Client::build_with_tls`) it connects; the emitter over TLS (with
/// `#insecure`, which skips verification) reaches the clients of TLS nodes.
#[tokio::test]
async fn tls_verifies_the_server_and_the_emitter_reaches_nodes() {
    let certs = Certificates::generate();
    let redis = tls_redis(&certs).await;
    let url = format!("rediss://127.0.0.1:{}", redis.port);

    let refused = [
        RedisAdapter::connect(&url, PubSubConfig::default())
            .await
            .err()
            .map(|e| e.to_string()),
        RedisStreamsAdapter::connect(&url, StreamsConfig::default())
            .await
            .err()
            .map(|e| e.to_string()),
        RedisShardedAdapter::connect(&url, ShardedConfig::default())
            .await
            .err()
            .map(|e| e.to_string()),
    ];
    for error in refused {
        let error = error.expect("connected to a server whose certificate no CA vouches for");
        assert!(
            error.to_lowercase().contains("certificate"),
            "not a certificate error: {error}"
        );
    }
    let client = redis::Client::build_with_tls(
        url.as_str(),
        redis::TlsCertificates {
            client_tls: None,
            root_cert: Some(certs.ca_pem.clone().into_bytes()),
        },
    )
    .unwrap();
    RedisAdapter::with_client(client, PubSubConfig::default())
        .await
        .expect("the adapter trusts the CA given to build_with_tls");

    let trust = certs.trust();
    let nodes = [
        ClusterNode::start_rust_at(&url, "pubsub", "socket.io", &envs(&trust)).await,
        ClusterNode::start_rust_at(&url, "pubsub", "socket.io", &envs(&trust)).await,
    ];
    let mut clients = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        let mut c = Clients::new(node).await;
        let s = format!("a{i}");
        c.connect(&s, json!({})).await;
        assert_eq!(c.ask(&s, "join", json!(["r1"])).await, json!(true));
        until_answer(&mut c, &s, "server-count", json!([]), json!(2)).await;
        clients.push(c);
    }
    let emitter = Emitter::connect(&format!("{url}/#insecure"), "socket.io")
        .await
        .unwrap();
    emitter
        .to("r1")
        .emit("from-emitter", &json!({"over": "tls"}))
        .await
        .unwrap();
    for (i, c) in clients.iter_mut().enumerate() {
        let event = c.event(&format!("a{i}"), "from-emitter").await;
        assert_eq!(event["args"], json!([{"over": "tls"}]), "node {i}");
    }
}

#[tokio::test]
async fn url_with_a_password() {
    let redis = Server::plain(&["--requirepass", "s3cret"]).await;
    let port = redis.port;
    for url in [
        format!("redis://127.0.0.1:{port}"),
        format!("redis://:wrong@127.0.0.1:{port}"),
    ] {
        let error = RedisAdapter::connect(&url, PubSubConfig::default())
            .await
            .err()
            .unwrap_or_else(|| panic!("{url} connected to a server with a password"))
            .to_string();
        assert!(
            error.contains("NOAUTH") || error.contains("WRONGPASS") || error.contains("auth"),
            "{url}: {error}"
        );
    }
    two_nodes_share_broadcasts(
        &format!("redis://:s3cret@127.0.0.1:{port}/3"),
        "pubsub",
        &[],
    )
    .await;
}

/// A sentinel monitoring `master` under the name `mymaster`, with the master's password.
async fn sentinel_for(master: &Server, password: &str, dir: &TempDir) -> Server {
    let port = any_free_port();
    let config = dir.write(
        "sentinel.conf",
        &format!(
            "port {port}\nbind 127.0.0.1\ndir {}\nsentinel monitor mymaster 127.0.0.1 {} 1\n\
             sentinel auth-pass mymaster {password}\n",
            dir.0.display(),
            master.port
        ),
    );
    Server::start(port, &[config.to_str().unwrap(), "--sentinel"]).await
}

/// Asks the sentinel for the master until it answers (a sentinel that just started may not
/// have checked its master yet).
async fn until_master(url: &str) -> String {
    let deadline = tokio::time::Instant::now() + STEP;
    loop {
        match sentinel_master_url(url).await {
            Ok(master) => return master,
            Err(error) => assert!(
                tokio::time::Instant::now() < deadline,
                "sentinel_master_url({url}) failed within {STEP:?}: {error}"
            ),
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn nodes_find_the_master_through_sentinel() {
    let dir = TempDir::new("sentinel");
    let master = Server::plain(&["--requirepass", "s3cret"]).await;
    let sentinel = sentinel_for(&master, "s3cret", &dir).await;
    let unused = any_free_port();

    // The first sentinel does not answer; the second does.
    let url = format!(
        "redis+sentinel://:s3cret@127.0.0.1:{unused},127.0.0.1:{}/mymaster/2",
        sentinel.port
    );
    let found = until_master(&url).await;
    assert_eq!(
        found,
        format!("redis://:s3cret@127.0.0.1:{}/2", master.port)
    );
    // The nodes take the sentinel URL themselves (`--redis redis+sentinel://…`).
    two_nodes_share_broadcasts(&url, "pubsub", &[]).await;

    // What cannot work says why.
    let unknown = sentinel_master_url(&format!(
        "redis+sentinel://127.0.0.1:{}/othermaster",
        sentinel.port
    ))
    .await
    .unwrap_err();
    assert!(
        unknown.to_string().to_lowercase().contains("master"),
        "{unknown}"
    );
    for bad in [
        format!("redis://127.0.0.1:{}/mymaster", sentinel.port),
        format!("redis+sentinel://127.0.0.1:{}", sentinel.port),
        format!("redis+sentinel://127.0.0.1:{}/mymaster/x", sentinel.port),
        "redis+sentinel:///mymaster".to_owned(),
    ] {
        let error = sentinel_master_url(&bad).await.unwrap_err().to_string();
        assert!(error.contains("invalid sentinel URL"), "{bad}: {error}");
    }
}

/// `rediss+sentinel://`: the sentinel and the master accept only TLS; the URL found keeps TLS.
#[tokio::test]
async fn sentinel_and_master_over_tls() {
    let certs = Certificates::generate();
    let master = tls_redis(&certs).await;
    let port = any_free_port();
    let (cert, key, ca) = (
        certs.path("server.pem"),
        certs.path("server.key"),
        certs.path("ca.pem"),
    );
    let config = certs.dir.write(
        "sentinel.conf",
        &format!(
            "port 0\ntls-port {port}\nbind 127.0.0.1\ndir {}\ntls-cert-file {cert}\n\
             tls-key-file {key}\ntls-ca-cert-file {ca}\ntls-auth-clients no\n\
             tls-replication yes\nsentinel monitor mymaster 127.0.0.1 {} 1\n",
            certs.dir.0.display(),
            master.port
        ),
    );
    let sentinel = Server::start(port, &[config.to_str().unwrap(), "--sentinel"]).await;

    // In this process the CA is not trusted, so the look-up skips verification (#insecure).
    let found = until_master(&format!(
        "rediss+sentinel://127.0.0.1:{}/mymaster#insecure",
        sentinel.port
    ))
    .await;
    assert_eq!(
        found,
        format!("rediss://127.0.0.1:{}/0#insecure", master.port)
    );
    // Verified: without the CA the sentinel's certificate is refused.
    let error = sentinel_master_url(&format!(
        "rediss+sentinel://127.0.0.1:{}/mymaster",
        sentinel.port
    ))
    .await
    .unwrap_err()
    .to_string();
    assert!(error.to_lowercase().contains("certificate"), "{error}");
    // The nodes trust the CA and verify the master's certificate.
    let verified = found.trim_end_matches("#insecure");
    two_nodes_share_broadcasts(verified, "pubsub", &envs(&certs.trust())).await;
}
