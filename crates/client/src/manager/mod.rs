//! The manager: one Engine.IO (or Socket.IO 0.9) connection per server, shared by every
//! namespace socket, with reconnection.
//!
//! One task per manager ([`task`]) owns the connection and drives the namespace state machine
//! ([`namespaces`]: every namespace's state and the Socket.IO rules, no I/O); clients talk to
//! it through [`Cmd`]s. [`wire`] encodes and decodes packets through the parser seam of
//! `sio-socketio-proto`, or through the 0.9 translation ([`translate09`]).

mod namespaces;
mod task;
mod translate09;
mod wire;

pub(crate) use task::engine_config;

use std::sync::{Arc, Mutex, Weak};

use sio_socketio_proto::Value;
use tokio::sync::{mpsc, oneshot};

use crate::client::SocketShared;
use crate::error::Error;
use crate::lock::Recover;
use crate::options::ManagerOptions;

/// A request to the manager task.
#[derive(Debug)]
pub(crate) enum Cmd {
    Open {
        socket: Arc<SocketShared>,
    },
    Emit {
        nsp: String,
        event: String,
        args: Vec<Value>,
        ack: Option<(u64, oneshot::Sender<Vec<Value>>)>,
        volatile: bool,
    },
    AckReply {
        nsp: String,
        id: u64,
        args: Vec<Value>,
    },
    CancelAck {
        nsp: String,
        id: u64,
    },
    Leave {
        nsp: String,
        /// Answered (or dropped) once what was sent before is written: when the connection
        /// closes with this namespace, after its close packet.
        done: Option<oneshot::Sender<()>>,
    },
    /// Close the connection without DISCONNECT packets; `done` as for `Leave`.
    Close {
        done: oneshot::Sender<()>,
    },
}

/// A connection to one server, shared by the namespace sockets created from it (the
/// JavaScript client's `Manager`). Get it from [`Client::manager`](crate::Client::manager) and
/// open more namespaces on the same connection with [`Manager::socket`].
#[derive(Debug, Clone)]
pub struct Manager {
    pub(crate) inner: Arc<ManagerInner>,
}

#[derive(Debug)]
pub(crate) struct ManagerInner {
    pub(crate) cmds: mpsc::UnboundedSender<Cmd>,
    pub(crate) options: Arc<ManagerOptions>,
}

impl Manager {
    pub(crate) fn spawn(options: ManagerOptions) -> Manager {
        let (tx, rx) = mpsc::unbounded_channel();
        let options = Arc::new(options);
        task::spawn(options.clone(), tx.downgrade(), rx);
        Manager {
            inner: Arc::new(ManagerInner { cmds: tx, options }),
        }
    }

    /// A builder for a socket on namespace `nsp` that shares this manager's connection.
    pub fn socket(&self, nsp: &str) -> crate::ClientBuilder {
        crate::ClientBuilder::for_manager(self.clone(), nsp)
    }

    pub(crate) fn send(&self, cmd: Cmd) -> Result<(), Error> {
        self.inner.cmds.send(cmd).map_err(|_| Error::Closed)
    }

    /// Closes the connection of every namespace on it at once, without sending their
    /// DISCONNECT packets (the JavaScript `socket.io.engine.close()`; servers see a transport
    /// close), and waits until what was sent before, then the close packet, is written (at
    /// most a few seconds when the server stops answering). No reconnection follows.
    ///
    /// For programs that emit and exit: servers such as Node's socket.io 3 and 4 ignore an
    /// event that reaches them in the same read as the socket's DISCONNECT, which
    /// [`Client::close`](crate::Client::close) sends; after this close they handle it.
    pub async fn close(&self) {
        let (done, written) = oneshot::channel();
        if self.send(Cmd::Close { done }).is_ok() {
            // An error only means the connection was already gone.
            let _ = written.await;
        }
    }
}

/// Managers shared by URL, as `io()` shares them unless `forceNew` is set.
static CACHE: Mutex<Vec<(String, Weak<ManagerInner>)>> = Mutex::new(Vec::new());

pub(crate) fn cached(key: &str, options: ManagerOptions) -> Manager {
    let mut cache = CACHE.lock().recover();
    cache.retain(|(_, weak)| weak.strong_count() > 0);
    let found = cache
        .iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, weak)| weak.upgrade())
        .filter(|inner| !inner.cmds.is_closed());
    if let Some(inner) = found {
        return Manager { inner };
    }
    let manager = Manager::spawn(options);
    cache.push((key.to_owned(), Arc::downgrade(&manager.inner)));
    manager
}
