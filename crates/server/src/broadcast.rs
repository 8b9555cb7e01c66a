//! Broadcasting to rooms, and operations on many sockets at once (Node's `BroadcastOperator`).

use std::{sync::Arc, time::Duration};

use serde::Serialize;
use sio_socketio_proto::{Packet, Value, to_args};

use crate::{
    adapter::{BroadcastAcks, BroadcastOptions, Room, SocketInfo},
    error::{AckError, AdapterError, EmitError},
    handshake::Handshake,
    namespace::Namespace,
    socket::IntoRooms,
};

/// Node's default acknowledgement wait for a broadcast without `timeout`.
const DEFAULT_ACK_TIMEOUT: Duration = Duration::from_secs(5);

/// A selection of sockets (rooms, exceptions, flags) to emit to or act on.
#[derive(Debug, Clone)]
pub struct BroadcastOperator {
    nsp: Arc<Namespace>,
    opts: BroadcastOptions,
}

impl BroadcastOperator {
    pub(crate) fn new(nsp: Arc<Namespace>) -> Self {
        BroadcastOperator {
            nsp,
            opts: BroadcastOptions::default(),
        }
    }

    /// Adds rooms to target; a socket in several of them receives once.
    pub fn to(mut self, rooms: impl IntoRooms) -> Self {
        for room in rooms.into_rooms() {
            if !self.opts.rooms.contains(&room) {
                self.opts.rooms.push(room);
            }
        }
        self
    }

    /// Same as [`BroadcastOperator::to`] (Node's `in`).
    pub fn within(self, rooms: impl IntoRooms) -> Self {
        self.to(rooms)
    }

    /// Leaves out the sockets in `rooms`.
    pub fn except(mut self, rooms: impl IntoRooms) -> Self {
        for room in rooms.into_rooms() {
            if !self.opts.except.contains(&room) {
                self.opts.except.push(room);
            }
        }
        self
    }

    /// Only this node's sockets.
    pub fn local(mut self) -> Self {
        self.opts.flags.local = true;
        self
    }

    /// The packet may be dropped for sockets that are not ready to take it.
    pub fn volatile(mut self) -> Self {
        self.opts.flags.volatile = true;
        self
    }

    /// Whether to compress the packet.
    pub fn compress(mut self, compress: bool) -> Self {
        self.opts.flags.compress = Some(compress);
        self
    }

    /// How long to wait for acknowledgements.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.opts.flags.timeout = Some(timeout);
        self
    }

    /// The selection as adapter options.
    pub fn options(&self) -> &BroadcastOptions {
        &self.opts
    }

    fn event(&self, event: &str, args: Vec<Value>) -> Result<Packet, EmitError> {
        let packet = Packet::Event {
            nsp: self.nsp.name().to_owned(),
            id: None,
            event: event.to_owned(),
            args,
        };
        self.nsp.validate_event(&packet)?;
        Ok(packet)
    }

    /// Sends an event to the selected sockets, encoded once for all of them.
    pub fn emit<T: Serialize + ?Sized>(self, event: &str, args: &T) -> Result<(), EmitError> {
        let packet = self.event(event, to_args(args)?)?;
        self.nsp.adapter().broadcast(packet, self.opts);
        Ok(())
    }

    /// Sends an event and waits for every selected socket's acknowledgement (all nodes).
    /// Fails with [`AckError::Timeout`] if some did not answer in time; see
    /// [`BroadcastOperator::collect_acks`] to keep partial answers.
    pub async fn emit_with_ack<T: Serialize + ?Sized>(
        self,
        event: &str,
        args: &T,
    ) -> Result<Vec<Vec<Value>>, AckError> {
        let acks = self.collect_acks(event, args).await?;
        if acks.is_complete() {
            Ok(acks.responses)
        } else {
            Err(AckError::Timeout)
        }
    }

    /// Sends an event and returns whatever acknowledgements arrived before the timeout, with
    /// how many were expected.
    pub async fn collect_acks<T: Serialize + ?Sized>(
        self,
        event: &str,
        args: &T,
    ) -> Result<BroadcastAcks, EmitError> {
        let packet = self.event(event, to_args(args)?)?;
        let timeout = self.opts.flags.timeout.unwrap_or(DEFAULT_ACK_TIMEOUT);
        Ok(self
            .nsp
            .adapter()
            .broadcast_with_ack(packet, self.opts, timeout)
            .await)
    }

    /// The selected sockets, across the cluster.
    pub async fn fetch_sockets(self) -> Result<Vec<RemoteSocket>, AdapterError> {
        let infos = self.nsp.adapter().fetch_sockets(self.opts).await?;
        Ok(infos
            .into_iter()
            .map(|info| RemoteSocket {
                nsp: self.nsp.clone(),
                info,
            })
            .collect())
    }

    /// Makes the selected sockets join `rooms`.
    pub fn sockets_join(self, rooms: impl IntoRooms) {
        self.nsp
            .adapter()
            .add_sockets(self.opts, rooms.into_rooms());
    }

    /// Makes the selected sockets leave `rooms`.
    pub fn sockets_leave(self, rooms: impl IntoRooms) {
        self.nsp
            .adapter()
            .del_sockets(self.opts, rooms.into_rooms());
    }

    /// Disconnects the selected sockets; with `close`, their whole connections.
    pub fn disconnect_sockets(self, close: bool) {
        self.nsp.adapter().disconnect_sockets(self.opts, close);
    }
}

/// A socket returned by `fetch_sockets`, on this node or another: its details, and the
/// operations that reach it wherever it is.
#[derive(Debug, Clone)]
pub struct RemoteSocket {
    nsp: Arc<Namespace>,
    info: SocketInfo,
}

impl RemoteSocket {
    /// Socket id.
    pub fn id(&self) -> &str {
        &self.info.id
    }

    /// Its handshake.
    pub fn handshake(&self) -> &Handshake {
        &self.info.handshake
    }

    /// Its rooms when fetched.
    pub fn rooms(&self) -> &[Room] {
        &self.info.rooms
    }

    /// Its `data` when fetched.
    pub fn data(&self) -> &Value {
        &self.info.data
    }

    fn operator(&self) -> BroadcastOperator {
        BroadcastOperator::new(self.nsp.clone()).to(self.info.id.clone())
    }

    /// Sends it an event.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, args: &T) -> Result<(), EmitError> {
        self.operator().emit(event, args)
    }

    /// Sends it an event and waits for its acknowledgement.
    pub async fn emit_with_ack<T: Serialize + ?Sized>(
        &self,
        event: &str,
        args: &T,
        timeout: Duration,
    ) -> Result<Vec<Value>, AckError> {
        let mut answers = self
            .operator()
            .timeout(timeout)
            .emit_with_ack(event, args)
            .await?;
        answers.pop().ok_or(AckError::Timeout)
    }

    /// Makes it join rooms.
    pub fn join(&self, rooms: impl IntoRooms) {
        self.operator().sockets_join(rooms);
    }

    /// Makes it leave rooms.
    pub fn leave(&self, rooms: impl IntoRooms) {
        self.operator().sockets_leave(rooms);
    }

    /// Disconnects it.
    pub fn disconnect(&self, close: bool) {
        self.operator().disconnect_sockets(close);
    }
}
