//! Converting between application values and hub message arguments.

use serde::Serialize;
use serde::de::DeserializeOwned;
use sio_signalr_proto::{HubProtocol, Value, ValueError};

use crate::error::HubError;

/// The arguments of a server-to-client invocation.
#[derive(Debug, Clone, PartialEq)]
pub struct Arguments {
    values: Vec<Value>,
}

impl Arguments {
    pub(crate) fn new(values: Vec<Value>) -> Self {
        Self { values }
    }

    /// The arguments as they arrived.
    pub fn values(&self) -> &[Value] {
        &self.values
    }

    /// How many arguments arrived.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether no argument arrived.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Argument `index` as `T`; a missing argument reads as null (so as `None` for an `Option`).
    pub fn get<T: DeserializeOwned>(&self, index: usize) -> Result<T, ValueError> {
        match self.values.get(index) {
            Some(value) => value.deserialize(),
            None => Value::json_null().deserialize(),
        }
    }

    /// All arguments as one `T`: a tuple, a `Vec`, or a struct read from a sequence.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, ValueError> {
        if self.values.iter().all(|v| matches!(v, Value::Json(_))) {
            let mut text = String::from("[");
            for (i, value) in self.values.iter().enumerate() {
                if let Value::Json(raw) = value {
                    if i > 0 {
                        text.push(',');
                    }
                    text.push_str(raw.get());
                }
            }
            text.push(']');
            return Ok(serde_json::from_str(&text)?);
        }
        if self
            .values
            .iter()
            .all(|v| matches!(v, Value::MessagePack(_)))
        {
            // Borrowed: the arguments are read in place, not copied into a new array.
            let array = rmpv::ValueRef::Array(
                self.values
                    .iter()
                    .filter_map(|v| match v {
                        Value::MessagePack(v) => Some(v.as_ref()),
                        Value::Json(_) => None,
                    })
                    .collect(),
            );
            return Ok(rmpv::ext::deserialize_from(array)?);
        }
        let array = rmpv::Value::Array(
            self.values
                .iter()
                .map(|v| match v {
                    Value::MessagePack(v) => Ok(v.clone()),
                    Value::Json(raw) => serde_json::from_str(raw.get()),
                })
                .collect::<Result<_, _>>()?,
        );
        Value::MessagePack(array).deserialize()
    }

    /// The arguments as JSON values (for display).
    pub fn to_json(&self) -> Result<Vec<serde_json::Value>, ValueError> {
        self.values.iter().map(Value::to_json).collect()
    }
}

/// The arguments of an outgoing invocation: a tuple or array gives one argument per element,
/// `()` gives none, any other value is the one argument.
pub(crate) fn to_arguments<A: Serialize + ?Sized>(
    protocol: HubProtocol,
    args: &A,
) -> Result<Vec<Value>, HubError> {
    match protocol {
        HubProtocol::Json => {
            let value = serde_json::to_value(args).map_err(ValueError::from)?;
            match value {
                serde_json::Value::Null => Ok(Vec::new()),
                serde_json::Value::Array(items) => items
                    .iter()
                    .map(|v| Value::json(v).map_err(HubError::from))
                    .collect(),
                other => Ok(vec![Value::json(&other)?]),
            }
        }
        HubProtocol::MessagePack => {
            let value = rmpv::ext::to_value(args).map_err(ValueError::from)?;
            match value {
                rmpv::Value::Nil => Ok(Vec::new()),
                rmpv::Value::Array(items) => {
                    Ok(items.into_iter().map(Value::MessagePack).collect())
                }
                other => Ok(vec![Value::MessagePack(other)]),
            }
        }
    }
}
