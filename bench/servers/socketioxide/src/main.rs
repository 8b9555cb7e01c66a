//! The benchmark contract on socketioxide (crates.io), served by hyper on a single-threaded
//! tokio runtime (`--threads N` for a multi-threaded one), TCP_NODELAY on every socket.
//!
//! Every socket joins room `room`; `echo` acks with its argument (or emits `echo` back when no
//! ack is asked); `fan` broadcasts `f` with its two arguments (timestamp, payload) to `room`.
//! `rmpv::Value` keeps binary payloads binary.

use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use socketioxide::SocketIo;
use socketioxide::extract::{AckSender, Data, SocketRef};
use tokio::net::TcpListener;

fn main() {
    let mut port = 3000u16;
    let mut threads = 1usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().unwrap_or_default();
        match arg.as_str() {
            "--port" => port = value.parse().expect("--port N"),
            "--threads" => threads = value.parse().expect("--threads N"),
            other => panic!("unknown argument {other}"),
        }
    }
    let runtime = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()
    }
    .expect("tokio runtime");
    runtime.block_on(serve(port));
}

async fn serve(port: u16) {
    let (svc, io) = SocketIo::builder().max_payload(10_000_000).build_svc();
    io.ns("/", async |socket: SocketRef| {
        socket.join("room");
        socket.on(
            "echo",
            async |socket: SocketRef, Data::<rmpv::Value>(data), ack: AckSender| {
                // socketioxide does not tell whether an ack was asked (`send` then does
                // nothing), so the emit-back half of the contract is not served here; the
                // harness always asks for acks.
                let _ = (ack.send(&data), socket);
            },
        );
        socket.on(
            "fan",
            async |socket: SocketRef, Data::<(rmpv::Value, rmpv::Value)>(data)| {
                let _ = socket.to("room").emit("f", &data).await;
            },
        );
    });
    let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
    println!(
        "listening {}",
        listener.local_addr().expect("address").port()
    );
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let svc = svc.clone();
        tokio::spawn(async move {
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .with_upgrades()
                .await;
        });
    }
}
