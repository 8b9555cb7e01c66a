//! One Engine.IO connection's Socket.IO state: its decoder and its namespace sockets.

use std::sync::{Arc, Mutex, MutexGuard};

use sio_engineio::Socket as Connection;
use sio_socketio_proto::{Codec, FrameDecoder, ProtocolVersion};
use tokio::task::AbortHandle;

use crate::{handler::SocketRef, socket::DisconnectReason};

/// The Socket.IO state of one Engine.IO connection (Node's `Client`).
#[derive(Debug, Default)]
pub struct ConnectionState {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    protocol: Option<ProtocolVersion>,
    decoder: Option<FrameDecoder>,
    /// By namespace name. A connection joins one or a few namespaces: a list is quicker to
    /// search than a map is to hash, and smaller.
    sockets: Vec<(Box<str>, SocketRef)>,
    connect_timer: Option<AbortHandle>,
}

impl State {
    fn position(&self, nsp: &str) -> Option<usize> {
        self.sockets.iter().position(|(name, _)| **name == *nsp)
    }

    fn get(&self, nsp: &str) -> Option<&SocketRef> {
        self.sockets
            .get(self.position(nsp)?)
            .map(|(_, socket)| socket)
    }
}

impl ConnectionState {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn init(&self, codec: Codec, max_attachments: usize) {
        let mut state = self.lock();
        state.protocol = Some(codec.version);
        state.decoder = Some(codec.decoder(max_attachments));
    }

    /// The client's Socket.IO protocol revision.
    pub fn protocol(&self) -> ProtocolVersion {
        self.lock().protocol.unwrap_or(ProtocolVersion::V5)
    }

    pub(crate) fn with_decoder<T>(&self, f: impl FnOnce(&mut FrameDecoder) -> T) -> Option<T> {
        self.lock().decoder.as_mut().map(f)
    }

    pub(crate) fn socket(&self, nsp: &str) -> Option<SocketRef> {
        self.lock().get(nsp).cloned()
    }

    pub(crate) fn is_connected_to(&self, nsp: &str) -> bool {
        self.lock().position(nsp).is_some()
    }

    pub(crate) fn has_sockets(&self) -> bool {
        !self.lock().sockets.is_empty()
    }

    pub(crate) fn insert(&self, nsp: &str, socket: SocketRef) {
        let mut state = self.lock();
        match state.sockets.iter_mut().find(|(name, _)| **name == *nsp) {
            Some(entry) => entry.1 = socket,
            None => state.sockets.push((nsp.into(), socket)),
        }
        if let Some(timer) = state.connect_timer.take() {
            timer.abort();
        }
    }

    pub(crate) fn remove(&self, nsp: &str) {
        let mut state = self.lock();
        if let Some(at) = state.position(nsp) {
            state.sockets.swap_remove(at);
        }
    }

    pub(crate) fn set_connect_timer(&self, timer: AbortHandle) {
        self.lock().connect_timer = Some(timer);
    }

    /// Closes every socket of the connection (the connection itself is closing).
    pub(crate) fn close_sockets(&self, reason: DisconnectReason) {
        let sockets: Vec<SocketRef> = {
            let mut state = self.lock();
            if let Some(timer) = state.connect_timer.take() {
                timer.abort();
            }
            state.sockets.iter().map(|(_, s)| s.clone()).collect()
        };
        for socket in sockets {
            socket.close(reason);
        }
        let mut state = self.lock();
        state.sockets.clear();
        state.decoder = None;
    }

    /// Node's `Client._disconnect`: every socket leaves its namespace, then the connection closes.
    pub(crate) fn disconnect_all(conn: &Arc<Connection<ConnectionState>>) {
        let sockets: Vec<SocketRef> = conn
            .data
            .lock()
            .sockets
            .iter()
            .map(|(_, s)| s.clone())
            .collect();
        for socket in sockets {
            socket.disconnect(false);
        }
        conn.close();
    }
}
