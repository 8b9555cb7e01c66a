//! Arguments, stream items and results: kept in the form they arrived in until the application
//! names the type it wants, so a JSON message is parsed once and a MessagePack one is read once.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::error::ValueError;

/// One argument (or stream item, or result) of a hub message.
#[derive(Clone, Debug)]
pub enum Value {
    /// A JSON value, as text (`serde_json`'s raw value).
    Json(Box<RawValue>),
    /// A MessagePack value.
    MessagePack(rmpv::Value),
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Json(a), Self::Json(b)) => a.get() == b.get(),
            (Self::MessagePack(a), Self::MessagePack(b)) => a == b,
            _ => false,
        }
    }
}

impl Value {
    /// The JSON `null`.
    pub fn json_null() -> Self {
        Self::Json(json_null())
    }

    /// A value serialized as JSON.
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<Self, ValueError> {
        Ok(Self::Json(serde_json::value::to_raw_value(value)?))
    }

    /// A value serialized as MessagePack.
    pub fn message_pack<T: Serialize + ?Sized>(value: &T) -> Result<Self, ValueError> {
        Ok(Self::MessagePack(rmpv::ext::to_value(value)?))
    }

    /// Reads the value as `T`.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, ValueError> {
        match self {
            Self::Json(raw) => Ok(serde_json::from_str(raw.get())?),
            Self::MessagePack(value) => Ok(rmpv::ext::deserialize_from(value.as_ref())?),
        }
    }

    /// The value as JSON (MessagePack binary becomes an array of numbers, as serde writes it).
    pub fn to_json(&self) -> Result<serde_json::Value, ValueError> {
        match self {
            Self::Json(raw) => Ok(serde_json::from_str(raw.get())?),
            Self::MessagePack(value) => Ok(serde_json::to_value(value)?),
        }
    }

    /// The value as JSON text, for the JSON hub protocol.
    pub(crate) fn to_raw_json(&self) -> Result<Box<RawValue>, serde_json::Error> {
        match self {
            Self::Json(raw) => Ok(raw.clone()),
            Self::MessagePack(value) => serde_json::value::to_raw_value(value),
        }
    }

    /// The value as MessagePack, for the MessagePack hub protocol.
    pub(crate) fn to_message_pack(&self) -> Result<rmpv::Value, serde_json::Error> {
        match self {
            Self::Json(raw) => serde_json::from_str(raw.get()),
            Self::MessagePack(value) => Ok(value.clone()),
        }
    }
}

/// serde_json's default raw value is `null`.
pub(crate) fn json_null() -> Box<RawValue> {
    Box::<RawValue>::default()
}
