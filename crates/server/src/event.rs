//! An incoming event and its acknowledgement.

use serde::{Serialize, de::DeserializeOwned};
use sio_socketio_proto::{ArgsError, Packet, Value, from_args, to_args};

use crate::{error::EmitError, handler::SocketRef};

/// An event received from a client.
#[derive(Debug)]
pub struct Event {
    /// Event name.
    pub name: String,
    /// Arguments, in order (binary values as [`Value::Binary`]).
    pub args: Vec<Value>,
    /// Present when the client waits for an acknowledgement.
    pub ack: Option<AckSender>,
}

impl Event {
    /// The arguments as a Rust type: a tuple for several arguments, a single type for one.
    ///
    /// ```
    /// # use sio_server::Event;
    /// # use sio_socketio_proto::Value;
    /// let event = Event { name: "move".into(), args: vec![Value::from(3), Value::from("up")], ack: None };
    /// let (steps, direction): (u32, String) = event.args()?;
    /// assert_eq!((steps, direction.as_str()), (3, "up"));
    /// # Ok::<(), sio_socketio_proto::ArgsError>(())
    /// ```
    pub fn args<T: DeserializeOwned>(&self) -> Result<T, ArgsError> {
        from_args(self.args.clone())
    }

    /// Like [`Event::args`], taking the arguments out instead of copying them.
    pub fn take_args<T: DeserializeOwned>(&mut self) -> Result<T, ArgsError> {
        from_args(std::mem::take(&mut self.args))
    }

    /// Answers the client's acknowledgement, if it asked for one.
    pub fn ack<T: Serialize + ?Sized>(&mut self, args: &T) -> Result<(), EmitError> {
        match self.ack.take() {
            Some(ack) => ack.send(args),
            None => Ok(()),
        }
    }
}

/// Answers one acknowledgement request; usable once.
#[derive(Debug)]
pub struct AckSender {
    pub(crate) socket: SocketRef,
    pub(crate) id: u64,
}

impl AckSender {
    /// Sends the answer: a tuple gives several arguments, `()` none, any other value one.
    pub fn send<T: Serialize + ?Sized>(self, args: &T) -> Result<(), EmitError> {
        self.send_values(to_args(args)?)
    }

    /// Sends the answer from already-built values.
    pub fn send_values(self, args: Vec<Value>) -> Result<(), EmitError> {
        let packet = Packet::Ack {
            nsp: self.socket.namespace().name().to_owned(),
            id: self.id,
            args,
        };
        self.socket.send(&packet)
    }
}
