//! Outgoing messages, encoded once and shared by every session they are sent to.

use std::borrow::Cow;

use bytes::Bytes;
use sio_engineio_proto::Data;
use tokio_tungstenite::tungstenite::Utf8Bytes;

/// A message for one or many sessions.
///
/// Cloning is cheap (a reference count): a broadcast builds one `Message` and hands a clone to
/// each receiver, so the bytes are encoded once whatever the number of receivers. A text message
/// keeps its Engine.IO type prefix so that a WebSocket frame is written without copying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message(Repr);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Repr {
    /// `4` followed by the text.
    Text(Utf8Bytes),
    Binary(Bytes),
}

impl Message {
    /// A text message.
    pub fn text(text: &str) -> Self {
        Message::text_with(text.len(), |buf| buf.push_str(text))
    }

    /// A text message written by `write` straight into the frame buffer, without an extra copy.
    /// `capacity` is a size hint.
    pub fn text_with(capacity: usize, write: impl FnOnce(&mut String)) -> Self {
        let mut frame = String::with_capacity(capacity + 1);
        frame.push('4');
        write(&mut frame);
        // A buffer without spare capacity becomes shared bytes without a second allocation
        // (shrinking in place is cheaper than that allocation), and holds no unused memory while
        // it waits in outboxes.
        frame.shrink_to_fit();
        Message(Repr::Text(frame.into()))
    }

    /// A binary message.
    pub fn binary(data: impl Into<Bytes>) -> Self {
        Message(Repr::Binary(data.into()))
    }

    /// The text, without the Engine.IO prefix, if this is a text message.
    pub fn as_text(&self) -> Option<&str> {
        match &self.0 {
            Repr::Text(frame) => frame.as_str().get(1..),
            Repr::Binary(_) => None,
        }
    }

    /// The bytes, if this is a binary message.
    pub fn as_binary(&self) -> Option<&Bytes> {
        match &self.0 {
            Repr::Binary(data) => Some(data),
            Repr::Text(_) => None,
        }
    }

    /// The message as protocol data, borrowing.
    pub(crate) fn as_data(&self) -> Data<'_> {
        match &self.0 {
            Repr::Text(_) => Data::Text(Cow::Borrowed(self.as_text().unwrap_or(""))),
            Repr::Binary(data) => Data::Binary(Cow::Borrowed(data)),
        }
    }

    /// The complete WebSocket text frame (`4…`), if this is a text message.
    pub(crate) fn text_frame(&self) -> Option<&Utf8Bytes> {
        match &self.0 {
            Repr::Text(frame) => Some(frame),
            Repr::Binary(_) => None,
        }
    }
}

impl sio_engineio_session::server::OutgoingMessage for Message {
    fn data(&self) -> Data<'_> {
        self.as_data()
    }
}
