//! [`Value`] → `T: Deserialize`, the inverse of `ser.rs` (serde_json's data model plus binary).

use rmpv::Value;
use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use serde::forward_to_deserialize_any;

use super::ArgsError;

/// Deserializes from one owned [`Value`].
pub(crate) struct ValueDeserializer(pub(crate) Value);

impl<'de> de::Deserializer<'de> for ValueDeserializer {
    type Error = ArgsError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ArgsError> {
        match self.0 {
            Value::Nil => visitor.visit_unit(),
            Value::Boolean(b) => visitor.visit_bool(b),
            Value::Integer(i) => match (i.as_u64(), i.as_i64()) {
                (Some(u), _) => visitor.visit_u64(u),
                (None, Some(n)) => visitor.visit_i64(n),
                (None, None) => Err(ArgsError::Message("invalid integer".into())),
            },
            Value::F32(f) => visitor.visit_f32(f),
            Value::F64(f) => visitor.visit_f64(f),
            Value::String(s) => match s.into_str() {
                Some(s) => visitor.visit_string(s),
                None => Err(ArgsError::Message("string is not valid UTF-8".into())),
            },
            Value::Binary(b) => visitor.visit_byte_buf(b),
            Value::Array(items) => visit_seq(items, visitor),
            Value::Map(pairs) => visit_map(pairs, visitor),
            Value::Ext(..) => Err(ArgsError::Message(
                "msgpack extension values cannot be deserialized".into(),
            )),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ArgsError> {
        match self.0 {
            Value::Nil => visitor.visit_none(),
            other => visitor.visit_some(ValueDeserializer(other)),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ArgsError> {
        visitor.visit_newtype_struct(self)
    }

    /// A `Vec<u8>` without `serde_bytes` asks for a sequence: give it the bytes one by one.
    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ArgsError> {
        match self.0 {
            Value::Binary(b) => visit_seq(b.into_iter().map(Value::from).collect(), visitor),
            other => ValueDeserializer(other).deserialize_any(visitor),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ArgsError> {
        match self.0 {
            Value::String(_) => visitor.visit_enum(EnumDeserializer {
                variant: self.0,
                value: None,
            }),
            Value::Map(pairs) => {
                let mut pairs = pairs.into_iter();
                match (pairs.next(), pairs.next()) {
                    (Some((variant, value)), None) => visitor.visit_enum(EnumDeserializer {
                        variant,
                        value: Some(value),
                    }),
                    _ => Err(ArgsError::Message(
                        "an enum must be a map with a single key".into(),
                    )),
                }
            }
            _ => Err(ArgsError::Message(
                "an enum must be a string or a map with a single key".into(),
            )),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ArgsError> {
        visitor.visit_unit()
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct tuple tuple_struct map struct identifier
    }
}

fn visit_seq<'de, V: Visitor<'de>>(items: Vec<Value>, visitor: V) -> Result<V::Value, ArgsError> {
    let len = items.len();
    let mut seq = SeqDeserializer(items.into_iter());
    let value = visitor.visit_seq(&mut seq)?;
    if seq.0.len() == 0 {
        Ok(value)
    } else {
        Err(de::Error::invalid_length(len, &"fewer elements"))
    }
}

fn visit_map<'de, V: Visitor<'de>>(
    pairs: Vec<(Value, Value)>,
    visitor: V,
) -> Result<V::Value, ArgsError> {
    let mut map = MapDeserializer {
        pairs: pairs.into_iter(),
        value: None,
    };
    visitor.visit_map(&mut map)
}

struct SeqDeserializer(std::vec::IntoIter<Value>);

impl<'de> de::SeqAccess<'de> for SeqDeserializer {
    type Error = ArgsError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, ArgsError> {
        self.0
            .next()
            .map(|v| seed.deserialize(ValueDeserializer(v)))
            .transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct MapDeserializer {
    pairs: std::vec::IntoIter<(Value, Value)>,
    value: Option<Value>,
}

impl<'de> de::MapAccess<'de> for MapDeserializer {
    type Error = ArgsError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ArgsError> {
        let Some((key, value)) = self.pairs.next() else {
            return Ok(None);
        };
        self.value = Some(value);
        seed.deserialize(KeyDeserializer(key)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, ArgsError> {
        let value = self
            .value
            .take()
            .ok_or_else(|| ArgsError::Message("map value requested before its key".into()))?;
        seed.deserialize(ValueDeserializer(value))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.pairs.len())
    }
}

/// Map keys arrive as strings (JSON object keys): a key type that is a number or a bool parses them.
struct KeyDeserializer(Value);

macro_rules! parse_key {
    ($($method:ident => $visit:ident: $ty:ty),* $(,)?) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ArgsError> {
                if let Some(s) = self.0.as_str() {
                    let parsed: $ty = s.parse().map_err(|_| {
                        ArgsError::Message(format!("map key {s:?} is not a valid {}", stringify!($ty)))
                    })?;
                    return visitor.$visit(parsed);
                }
                ValueDeserializer(self.0).deserialize_any(visitor)
            }
        )*
    };
}

impl<'de> de::Deserializer<'de> for KeyDeserializer {
    type Error = ArgsError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ArgsError> {
        ValueDeserializer(self.0).deserialize_any(visitor)
    }

    parse_key! {
        deserialize_bool => visit_bool: bool,
        deserialize_i8 => visit_i8: i8,
        deserialize_i16 => visit_i16: i16,
        deserialize_i32 => visit_i32: i32,
        deserialize_i64 => visit_i64: i64,
        deserialize_u8 => visit_u8: u8,
        deserialize_u16 => visit_u16: u16,
        deserialize_u32 => visit_u32: u32,
        deserialize_u64 => visit_u64: u64,
        deserialize_f32 => visit_f32: f32,
        deserialize_f64 => visit_f64: f64,
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ArgsError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ArgsError> {
        ValueDeserializer(self.0).deserialize_enum(name, variants, visitor)
    }

    forward_to_deserialize_any! {
        i128 u128 char str string bytes byte_buf option unit unit_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

struct EnumDeserializer {
    variant: Value,
    value: Option<Value>,
}

impl<'de> de::EnumAccess<'de> for EnumDeserializer {
    type Error = ArgsError;
    type Variant = VariantDeserializer;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, VariantDeserializer), ArgsError> {
        let variant = seed.deserialize(KeyDeserializer(self.variant))?;
        Ok((variant, VariantDeserializer(self.value)))
    }
}

struct VariantDeserializer(Option<Value>);

impl<'de> de::VariantAccess<'de> for VariantDeserializer {
    type Error = ArgsError;

    fn unit_variant(self) -> Result<(), ArgsError> {
        match self.0 {
            None | Some(Value::Nil) => Ok(()),
            Some(_) => Err(ArgsError::Message("expected a unit variant".into())),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, ArgsError> {
        match self.0 {
            Some(v) => seed.deserialize(ValueDeserializer(v)),
            None => Err(ArgsError::Message("expected a newtype variant".into())),
        }
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, ArgsError> {
        match self.0 {
            Some(Value::Array(items)) => visit_seq(items, visitor),
            _ => Err(ArgsError::Message("expected a tuple variant".into())),
        }
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ArgsError> {
        match self.0 {
            Some(Value::Map(pairs)) => visit_map(pairs, visitor),
            _ => Err(ArgsError::Message("expected a struct variant".into())),
        }
    }
}

/// The whole argument list: a sequence-like `T` (tuple, `Vec`, self-describing types such as
/// `serde_json::Value`) gets every argument, any other `T` exactly one.
pub(crate) struct ArgsDeserializer(pub(crate) Vec<Value>);

impl ArgsDeserializer {
    fn single(self) -> Result<ValueDeserializer, ArgsError> {
        let found = self.0.len();
        let mut args = self.0.into_iter();
        match (args.next(), args.next()) {
            (Some(v), None) => Ok(ValueDeserializer(v)),
            _ => Err(ArgsError::ArgumentCount { expected: 1, found }),
        }
    }
}

macro_rules! single_arg {
    ($($method:ident),*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ArgsError> {
                self.single()?.$method(visitor)
            }
        )*
    };
}

impl<'de> de::Deserializer<'de> for ArgsDeserializer {
    type Error = ArgsError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ArgsError> {
        visit_seq(self.0, visitor)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ArgsError> {
        visit_seq(self.0, visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, ArgsError> {
        visit_seq(self.0, visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, ArgsError> {
        visit_seq(self.0, visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ArgsError> {
        visitor.visit_unit()
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ArgsError> {
        match self.0.as_slice() {
            [] | [Value::Nil] => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ArgsError> {
        if self.0.is_empty() {
            return visitor.visit_unit();
        }
        self.single()?.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ArgsError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ArgsError> {
        self.single()?.deserialize_unit_struct(name, visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ArgsError> {
        self.single()?.deserialize_struct(name, fields, visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ArgsError> {
        self.single()?.deserialize_enum(name, variants, visitor)
    }

    single_arg!(
        deserialize_bool,
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_i128,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_u128,
        deserialize_f32,
        deserialize_f64,
        deserialize_char,
        deserialize_str,
        deserialize_string,
        deserialize_bytes,
        deserialize_byte_buf,
        deserialize_map,
        deserialize_identifier
    );
}

impl<'de> IntoDeserializer<'de, ArgsError> for ValueDeserializer {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}
