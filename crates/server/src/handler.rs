//! User handlers, and running them without a task per message.

use std::{
    future::Future,
    sync::Arc,
    task::{Context, Waker},
};

use crate::{
    adapter::{AckCollector, BoxFuture},
    error::ConnectError,
    event::Event,
    socket::{DisconnectReason, Socket},
};

/// A socket, shared by its handlers.
pub type SocketRef = Arc<Socket>;

/// Runs a handler's future: polled once right here, and only spawned as a task if it has to
/// wait. A handler that answers at once (the common case) costs no task.
pub(crate) fn run<F: Future<Output = ()> + Send + 'static>(future: F) {
    let mut future = Box::pin(future);
    let mut cx = Context::from_waker(Waker::noop());
    if future.as_mut().poll(&mut cx).is_pending() {
        // The task polls again with a real waker, which replaces the no-op one.
        tokio::spawn(future);
    }
}

/// Handles an event (`socket.on("name", …)`).
pub trait EventHandler: Send + Sync + 'static {
    /// Called for each matching event.
    fn call(&self, socket: SocketRef, event: Event);
}

impl<F, Fut> EventHandler for F
where
    F: Fn(SocketRef, Event) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    fn call(&self, socket: SocketRef, event: Event) {
        run(self(socket, event));
    }
}

/// Handles a new connection to a namespace.
pub trait ConnectionHandler: Send + Sync + 'static {
    /// Called once the socket is connected.
    fn call(&self, socket: SocketRef);
}

impl<F, Fut> ConnectionHandler for F
where
    F: Fn(SocketRef) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    fn call(&self, socket: SocketRef) {
        run(self(socket));
    }
}

/// Handles a socket's disconnection (or its `disconnecting` moment, when rooms are still set).
pub trait DisconnectHandler: Send + Sync + 'static {
    /// Called once.
    fn call(&self, socket: SocketRef, reason: DisconnectReason);
}

impl<F, Fut> DisconnectHandler for F
where
    F: Fn(SocketRef, DisconnectReason) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    fn call(&self, socket: SocketRef, reason: DisconnectReason) {
        run(self(socket, reason));
    }
}

/// A namespace middleware: may refuse a connection before it is established.
pub trait Middleware: Send + Sync + 'static {
    /// `Err` refuses the connection with CONNECT_ERROR.
    fn call(&self, socket: SocketRef) -> BoxFuture<'static, Result<(), ConnectError>>;
}

impl<F, Fut> Middleware for F
where
    F: Fn(SocketRef) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), ConnectError>> + Send + 'static,
{
    fn call(&self, socket: SocketRef) -> BoxFuture<'static, Result<(), ConnectError>> {
        Box::pin(self(socket))
    }
}

/// What a packet middleware decides about an incoming event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flow {
    /// Pass the event on.
    Continue,
    /// Drop the event silently.
    Drop,
    /// Refuse the event: it is dropped and the socket's error handlers receive the message.
    Refuse(String),
}

/// A per-packet middleware (Node's `socket.use`): sees every incoming event first.
pub trait PacketMiddleware: Send + Sync + 'static {
    /// Decides; may also change the event.
    fn call(&self, socket: &SocketRef, event: &mut Event) -> Flow;
}

impl<F> PacketMiddleware for F
where
    F: Fn(&SocketRef, &mut Event) -> Flow + Send + Sync + 'static,
{
    fn call(&self, socket: &SocketRef, event: &mut Event) -> Flow {
        self(socket, event)
    }
}

/// Handles events sent with `server_side_emit` by other nodes of a cluster.
pub trait ServerSideHandler: Send + Sync + 'static {
    /// `ack` is set when the sender waits for an answer.
    fn call(&self, args: Vec<sio_socketio_proto::Value>, ack: Option<AckCollector>);
}

impl<F, Fut> ServerSideHandler for F
where
    F: Fn(Vec<sio_socketio_proto::Value>, Option<AckCollector>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    fn call(&self, args: Vec<sio_socketio_proto::Value>, ack: Option<AckCollector>) {
        run(self(args, ack));
    }
}

/// Sees every event a socket sends (Node's `onAnyOutgoing`).
pub(crate) type OutgoingListener =
    Arc<dyn Fn(&SocketRef, &str, &[sio_socketio_proto::Value]) + Send + Sync>;

/// Sees refusals from packet middlewares (Node's socket `error` event).
pub(crate) type ErrorListener = Arc<dyn Fn(&SocketRef, &str) + Send + Sync>;
