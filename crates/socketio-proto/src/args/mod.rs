//! Typed event arguments: Rust values ⇄ the [`Value`] lists carried by EVENT and ACK packets.
//!
//! The mapping is serde_json's (structs and maps are objects with string keys, enums are externally
//! tagged, `None` is `null`) plus binary: `&[u8]` serialized as bytes (`bytes::Bytes`,
//! `serde_bytes::ByteBuf`, `#[serde(with = "serde_bytes")]` fields) becomes [`Value::Binary`] and is sent
//! as an attachment. A plain `Vec<u8>` serializes as an array of numbers, like in JSON, but can be
//! deserialized from a binary value.

mod de;
mod ser;

use rmpv::Value;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Why a Rust value could not be turned into arguments or back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ArgsError {
    /// serde's description of the mismatch.
    #[error("{0}")]
    Message(String),
    /// A non-sequence type needs exactly one argument.
    #[error("expected {expected} argument(s), found {found}")]
    ArgumentCount {
        /// How many were needed.
        expected: usize,
        /// How many were there.
        found: usize,
    },
}

impl serde::ser::Error for ArgsError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Self::Message(msg.to_string())
    }
}

impl serde::de::Error for ArgsError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Self::Message(msg.to_string())
    }
}

/// Turns `value` into an argument list.
///
/// A value that serializes as a sequence (a tuple, `Vec`, array) gives one argument per element; `()`
/// gives no argument; anything else (a struct, a map, a string, a number, `Option`…) is one argument.
/// So to send a single argument that is itself an array, wrap it in a 1-tuple: `(vec![1, 2],)`.
///
/// ```
/// use sio_socketio_proto::{to_args, Value};
///
/// assert_eq!(to_args(&("hi", 2))?, vec![Value::from("hi"), Value::from(2)]);
/// assert_eq!(to_args(&"hi")?, vec![Value::from("hi")]);
/// assert_eq!(to_args(&())?, Vec::<Value>::new());
/// # Ok::<(), sio_socketio_proto::ArgsError>(())
/// ```
///
/// # Errors
/// Map keys that are not strings, numbers or booleans; integers beyond 64 bits; `Serialize`
/// implementations that fail.
pub fn to_args<T: Serialize + ?Sized>(value: &T) -> Result<Vec<Value>, ArgsError> {
    match value.serialize(ser::Serializer { top_level: true })? {
        Value::Array(items) => Ok(items),
        other => Ok(vec![other]),
    }
}

/// Turns an argument list into a `T`, the inverse of [`to_args`].
///
/// A sequence-like `T` (tuple, `Vec`, tuple struct) receives every argument; a self-describing `T`
/// (`serde_json::Value`, [`Value`]) receives them all as one array; `()` accepts no argument;
/// `Option<T>` is `None` for no argument or a single `null`; any other `T` (a struct, a map, a string,
/// a number…) needs exactly one argument. `serde_json::Value` works for arguments without binary.
///
/// ```
/// use serde::Deserialize;
/// use sio_socketio_proto::{from_args, Value};
///
/// #[derive(Deserialize, Debug, PartialEq)]
/// struct Msg { text: String }
///
/// let args = vec![Value::Map(vec![(Value::from("text"), Value::from("hello"))])];
/// assert_eq!(from_args::<Msg>(args)?, Msg { text: "hello".into() });
/// let (a, b): (String, u32) = from_args(vec![Value::from("x"), Value::from(7)])?;
/// assert_eq!((a.as_str(), b), ("x", 7));
/// # Ok::<(), sio_socketio_proto::ArgsError>(())
/// ```
///
/// # Errors
/// Arguments that do not match `T`, or a wrong number of them.
pub fn from_args<T: DeserializeOwned>(args: Vec<Value>) -> Result<T, ArgsError> {
    T::deserialize(de::ArgsDeserializer(args))
}

/// Serializes one Rust value into a [`Value`] with the same mapping as [`to_args`] (a sequence stays an
/// array).
///
/// # Errors
/// As [`to_args`].
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, ArgsError> {
    ser::to_value(value)
}

/// Deserializes one [`Value`] into a `T`, with the same mapping as [`from_args`] for one argument.
///
/// # Errors
/// A value that does not match `T`.
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, ArgsError> {
    T::deserialize(de::ValueDeserializer(value))
}
