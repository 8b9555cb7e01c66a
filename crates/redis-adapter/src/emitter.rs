//! Emitting into a cluster from a process that is not a server, as `@socket.io/redis-emitter` 5.
//!
//! Broadcasts are msgpack `["emitter", {type: 2, data, nsp}, {rooms, except, flags}]` on the
//! broadcast channel (`key#nsp#`, or `key#nsp#room#` for exactly one room); room changes,
//! disconnections and server-side emits are JSON requests on `key-request#nsp#`. Nothing is
//! acknowledged: the emitter does not subscribe to anything.

use redis::aio::ConnectionManager;
use serde::Serialize;
use sio_cluster_adapter::{
    value::{map, string_array, to_json_string, to_msgpack},
    wire::{opts_to_value, packet_to_value},
};
use sio_server::{
    Value,
    adapter::{BroadcastFlags, BroadcastOptions},
    proto::{Packet, is_reserved_event, to_args},
};

use crate::error::Error;

/// The uid every emitter uses: servers know the message comes from no node.
const EMITTER_UID: &str = "emitter";

/// An emitter for one namespace (`/` at first; see [`Emitter::of`]).
///
/// ```no_run
/// use sio_redis_adapter::Emitter;
///
/// # async fn run() -> Result<(), sio_redis_adapter::Error> {
/// let emitter = Emitter::connect("redis://127.0.0.1:6379", "socket.io").await?;
/// emitter.to("room1").except("room2").emit("news", &("hello", 1)).await?;
/// emitter.of("/admin").sockets_join("staff").await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Emitter {
    conn: ConnectionManager,
    key: String,
    nsp: String,
}

impl std::fmt::Debug for Emitter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emitter")
            .field("key", &self.key)
            .field("nsp", &self.nsp)
            .finish_non_exhaustive()
    }
}

impl Emitter {
    /// Connects to Redis; `key` is the servers' channel prefix (Node's default: `socket.io`).
    ///
    /// # Errors
    /// The URL is invalid or Redis cannot be reached.
    pub async fn connect(url: &str, key: impl Into<String>) -> Result<Self, Error> {
        let client = crate::redis_io::open_client(url).await?;
        let conn = crate::redis_io::command_connection(client).await?;
        Ok(Emitter {
            conn,
            key: key.into(),
            nsp: "/".into(),
        })
    }

    /// The same emitter for namespace `nsp` (a missing leading `/` is added, as in Node).
    pub fn of(&self, nsp: &str) -> Emitter {
        let nsp = if nsp.starts_with('/') {
            nsp.to_owned()
        } else {
            format!("/{nsp}")
        };
        Emitter {
            conn: self.conn.clone(),
            key: self.key.clone(),
            nsp,
        }
    }

    fn operator(&self) -> EmitterOperator {
        EmitterOperator {
            emitter: self.clone(),
            opts: BroadcastOptions::default(),
        }
    }

    /// Targets the sockets in `room`.
    pub fn to(&self, room: impl Into<String>) -> EmitterOperator {
        self.operator().to(room)
    }

    /// Leaves out the sockets in `room`.
    pub fn except(&self, room: impl Into<String>) -> EmitterOperator {
        self.operator().except(room)
    }

    /// The broadcast may be dropped for clients that are not ready.
    pub fn volatile(&self) -> EmitterOperator {
        self.operator().volatile()
    }

    /// Emits to every socket of the namespace.
    ///
    /// # Errors
    /// Reserved event name, arguments that cannot be serialized, Redis failure.
    pub async fn emit<T: Serialize + ?Sized>(&self, event: &str, args: &T) -> Result<(), Error> {
        self.operator().emit(event, args).await
    }

    /// Makes every socket join `rooms`.
    ///
    /// # Errors
    /// Redis failure.
    pub async fn sockets_join(&self, rooms: impl Into<String>) -> Result<(), Error> {
        self.operator().sockets_join(rooms).await
    }

    /// Makes every socket leave `rooms`.
    ///
    /// # Errors
    /// Redis failure.
    pub async fn sockets_leave(&self, rooms: impl Into<String>) -> Result<(), Error> {
        self.operator().sockets_leave(rooms).await
    }

    /// Disconnects every socket (their whole connection with `close`).
    ///
    /// # Errors
    /// Redis failure.
    pub async fn disconnect_sockets(&self, close: bool) -> Result<(), Error> {
        self.operator().disconnect_sockets(close).await
    }

    /// Sends an event to the servers' server-side handlers (no acknowledgements, as in Node).
    ///
    /// # Errors
    /// Reserved event name, arguments that cannot be serialized, Redis failure.
    pub async fn server_side_emit<T: Serialize + ?Sized>(
        &self,
        event: &str,
        args: &T,
    ) -> Result<(), Error> {
        if is_reserved_event(event) {
            return Err(Error::ReservedEvent(event.to_owned()));
        }
        let mut data = vec![Value::from(event)];
        data.extend(to_args(args)?);
        let request = map([
            ("uid", Value::from(EMITTER_UID)),
            ("type", Value::from(6)),
            ("data", Value::Array(data)),
        ]);
        self.publish(
            self.request_channel(),
            to_json_string(&request).into_bytes(),
        )
        .await
    }

    fn request_channel(&self) -> String {
        format!("{}-request#{}#", self.key, self.nsp)
    }

    async fn publish(&self, channel: String, payload: Vec<u8>) -> Result<(), Error> {
        let mut conn = self.conn.clone();
        redis::cmd("PUBLISH")
            .arg(channel)
            .arg(payload)
            .exec_async(&mut conn)
            .await?;
        Ok(())
    }
}

/// A selection of sockets for the emitter (rooms, exceptions, flags).
#[derive(Debug, Clone)]
pub struct EmitterOperator {
    emitter: Emitter,
    opts: BroadcastOptions,
}

impl EmitterOperator {
    /// Adds a room to target.
    pub fn to(mut self, room: impl Into<String>) -> Self {
        let room = room.into();
        if !self.opts.rooms.contains(&room) {
            self.opts.rooms.push(room);
        }
        self
    }

    /// Leaves out the sockets of a room.
    pub fn except(mut self, room: impl Into<String>) -> Self {
        let room = room.into();
        if !self.opts.except.contains(&room) {
            self.opts.except.push(room);
        }
        self
    }

    /// The broadcast may be dropped for clients that are not ready.
    pub fn volatile(mut self) -> Self {
        self.opts.flags = BroadcastFlags {
            volatile: true,
            ..self.opts.flags
        };
        self
    }

    /// Whether to compress.
    pub fn compress(mut self, compress: bool) -> Self {
        self.opts.flags.compress = Some(compress);
        self
    }

    /// Emits to the selected sockets on every node.
    ///
    /// # Errors
    /// Reserved event name, arguments that cannot be serialized or encoded as msgpack, Redis
    /// failure.
    pub async fn emit<T: Serialize + ?Sized>(self, event: &str, args: &T) -> Result<(), Error> {
        if is_reserved_event(event) {
            return Err(Error::ReservedEvent(event.to_owned()));
        }
        let packet = Packet::Event {
            nsp: self.emitter.nsp.clone(),
            id: None,
            event: event.to_owned(),
            args: to_args(args)?,
        };
        let packet = packet_to_value(&packet).unwrap_or(Value::Nil);
        let message = Value::Array(vec![
            Value::from(EMITTER_UID),
            packet,
            opts_to_value(&self.opts, true),
        ]);
        let mut channel = format!("{}#{}#", self.emitter.key, self.emitter.nsp);
        if let [room] = self.opts.rooms.as_slice() {
            channel.push_str(room);
            channel.push('#');
        }
        self.emitter.publish(channel, to_msgpack(&message)?).await
    }

    async fn request(&self, ty: u64, extra: (&str, Value)) -> Result<(), Error> {
        let request = map([
            ("type", Value::from(ty)),
            ("opts", opts_to_value(&self.opts, false)),
            extra,
        ]);
        self.emitter
            .publish(
                self.emitter.request_channel(),
                to_json_string(&request).into_bytes(),
            )
            .await
    }

    /// Makes the selected sockets join `room`.
    ///
    /// # Errors
    /// Redis failure.
    pub async fn sockets_join(self, room: impl Into<String>) -> Result<(), Error> {
        self.request(2, ("rooms", string_array(&[room.into()])))
            .await
    }

    /// Makes the selected sockets leave `room`.
    ///
    /// # Errors
    /// Redis failure.
    pub async fn sockets_leave(self, room: impl Into<String>) -> Result<(), Error> {
        self.request(3, ("rooms", string_array(&[room.into()])))
            .await
    }

    /// Disconnects the selected sockets (their whole connection with `close`).
    ///
    /// # Errors
    /// Redis failure.
    pub async fn disconnect_sockets(self, close: bool) -> Result<(), Error> {
        self.request(4, ("close", Value::from(close))).await
    }
}
