//! `T: Serialize` → [`Value`] as a JavaScript peer expects it: structs and maps become maps with string
//! keys, enums are externally tagged like serde_json, bytes become [`Value::Binary`].

use std::fmt::Write as _;

use rmpv::Value;
use serde::ser::{self, Serialize};

use super::ArgsError;

pub(crate) fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, ArgsError> {
    value.serialize(Serializer { top_level: false })
}

pub(crate) struct Serializer {
    /// At the top of an argument list `()` means "no arguments" and becomes an empty array.
    pub(crate) top_level: bool,
}

impl ser::Serializer for Serializer {
    type Ok = Value;
    type Error = ArgsError;
    type SerializeSeq = SeqSerializer;
    type SerializeTuple = SeqSerializer;
    type SerializeTupleStruct = SeqSerializer;
    type SerializeTupleVariant = VariantSerializer<SeqSerializer>;
    type SerializeMap = MapSerializer;
    type SerializeStruct = MapSerializer;
    type SerializeStructVariant = VariantSerializer<MapSerializer>;

    fn serialize_bool(self, v: bool) -> Result<Value, ArgsError> {
        Ok(Value::Boolean(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Value, ArgsError> {
        Ok(Value::from(v))
    }
    fn serialize_i16(self, v: i16) -> Result<Value, ArgsError> {
        Ok(Value::from(v))
    }
    fn serialize_i32(self, v: i32) -> Result<Value, ArgsError> {
        Ok(Value::from(v))
    }
    fn serialize_i64(self, v: i64) -> Result<Value, ArgsError> {
        Ok(Value::from(v))
    }
    fn serialize_i128(self, v: i128) -> Result<Value, ArgsError> {
        if let Ok(v) = u64::try_from(v) {
            return Ok(Value::from(v));
        }
        i64::try_from(v)
            .map(Value::from)
            .map_err(|_| ArgsError::Message("integer out of the 64-bit range".into()))
    }
    fn serialize_u8(self, v: u8) -> Result<Value, ArgsError> {
        Ok(Value::from(v))
    }
    fn serialize_u16(self, v: u16) -> Result<Value, ArgsError> {
        Ok(Value::from(v))
    }
    fn serialize_u32(self, v: u32) -> Result<Value, ArgsError> {
        Ok(Value::from(v))
    }
    fn serialize_u64(self, v: u64) -> Result<Value, ArgsError> {
        Ok(Value::from(v))
    }
    fn serialize_u128(self, v: u128) -> Result<Value, ArgsError> {
        u64::try_from(v)
            .map(Value::from)
            .map_err(|_| ArgsError::Message("integer out of the 64-bit range".into()))
    }
    fn serialize_f32(self, v: f32) -> Result<Value, ArgsError> {
        Ok(Value::F32(v))
    }
    fn serialize_f64(self, v: f64) -> Result<Value, ArgsError> {
        Ok(Value::F64(v))
    }
    fn serialize_char(self, v: char) -> Result<Value, ArgsError> {
        Ok(Value::from(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Value, ArgsError> {
        Ok(Value::from(v))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Value, ArgsError> {
        Ok(Value::Binary(v.to_vec()))
    }
    fn serialize_none(self) -> Result<Value, ArgsError> {
        Ok(Value::Nil)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Value, ArgsError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value, ArgsError> {
        if self.top_level {
            return Ok(Value::Array(Vec::new()));
        }
        Ok(Value::Nil)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Value, ArgsError> {
        Ok(Value::Nil)
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Value, ArgsError> {
        Ok(Value::from(variant))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Value, ArgsError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Value, ArgsError> {
        Ok(Value::Map(vec![(Value::from(variant), to_value(value)?)]))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqSerializer, ArgsError> {
        Ok(SeqSerializer(Vec::with_capacity(
            len.unwrap_or(0).min(4096),
        )))
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqSerializer, ArgsError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<SeqSerializer, ArgsError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, ArgsError> {
        Ok(VariantSerializer {
            variant,
            inner: self.serialize_seq(Some(len))?,
        })
    }
    fn serialize_map(self, len: Option<usize>) -> Result<MapSerializer, ArgsError> {
        Ok(MapSerializer {
            pairs: Vec::with_capacity(len.unwrap_or(0).min(4096)),
            key: None,
        })
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<MapSerializer, ArgsError> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, ArgsError> {
        Ok(VariantSerializer {
            variant,
            inner: self.serialize_map(Some(len))?,
        })
    }
}

pub(crate) struct SeqSerializer(Vec<Value>);

impl ser::SerializeSeq for SeqSerializer {
    type Ok = Value;
    type Error = ArgsError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ArgsError> {
        self.0.push(to_value(value)?);
        Ok(())
    }
    fn end(self) -> Result<Value, ArgsError> {
        Ok(Value::Array(self.0))
    }
}

impl ser::SerializeTuple for SeqSerializer {
    type Ok = Value;
    type Error = ArgsError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ArgsError> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<Value, ArgsError> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleStruct for SeqSerializer {
    type Ok = Value;
    type Error = ArgsError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ArgsError> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<Value, ArgsError> {
        ser::SerializeSeq::end(self)
    }
}

pub(crate) struct MapSerializer {
    pairs: Vec<(Value, Value)>,
    key: Option<Value>,
}

impl ser::SerializeMap for MapSerializer {
    type Ok = Value;
    type Error = ArgsError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), ArgsError> {
        self.key = Some(key_to_string(to_value(key)?)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ArgsError> {
        let key = self
            .key
            .take()
            .ok_or_else(|| ArgsError::Message("map value without key".into()))?;
        self.pairs.push((key, to_value(value)?));
        Ok(())
    }
    fn end(self) -> Result<Value, ArgsError> {
        Ok(Value::Map(self.pairs))
    }
}

impl ser::SerializeStruct for MapSerializer {
    type Ok = Value;
    type Error = ArgsError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), ArgsError> {
        self.pairs.push((Value::from(key), to_value(value)?));
        Ok(())
    }
    fn end(self) -> Result<Value, ArgsError> {
        Ok(Value::Map(self.pairs))
    }
}

/// JavaScript object keys are strings: scalar keys are turned into theirs, as serde_json does.
fn key_to_string(key: Value) -> Result<Value, ArgsError> {
    let mut s = String::new();
    match key {
        Value::String(_) => return Ok(key),
        Value::Integer(i) => {
            let _ = write!(s, "{i}");
        }
        Value::Boolean(b) => {
            let _ = write!(s, "{b}");
        }
        Value::F32(f) => crate::js::write_f32(&mut s, f),
        Value::F64(f) => crate::js::write_f64(&mut s, f),
        _ => {
            return Err(ArgsError::Message(
                "map keys must be strings or numbers".into(),
            ));
        }
    }
    Ok(Value::from(s))
}

/// `{variant: inner}`.
pub(crate) struct VariantSerializer<S> {
    variant: &'static str,
    inner: S,
}

impl ser::SerializeTupleVariant for VariantSerializer<SeqSerializer> {
    type Ok = Value;
    type Error = ArgsError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ArgsError> {
        ser::SerializeSeq::serialize_element(&mut self.inner, value)
    }
    fn end(self) -> Result<Value, ArgsError> {
        let inner = ser::SerializeSeq::end(self.inner)?;
        Ok(Value::Map(vec![(Value::from(self.variant), inner)]))
    }
}

impl ser::SerializeStructVariant for VariantSerializer<MapSerializer> {
    type Ok = Value;
    type Error = ArgsError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), ArgsError> {
        ser::SerializeStruct::serialize_field(&mut self.inner, key, value)
    }
    fn end(self) -> Result<Value, ArgsError> {
        let inner = ser::SerializeStruct::end(self.inner)?;
        Ok(Value::Map(vec![(Value::from(self.variant), inner)]))
    }
}
