//! Reading fields of [`Value`] objects as JavaScript reads them after `JSON.parse`: the CONNECT
//! payload's `sid`/`pid`, auth tokens, a CONNECT_ERROR's `message`.

use rmpv::Value;

/// The value of `key` in the object `value`; `None` when `value` is not an object or has no such key.
/// With duplicate keys the last one counts, as with `JSON.parse`.
pub fn field<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    match value {
        Value::Map(entries) => entries
            .iter()
            .rev()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v),
        _ => None,
    }
}

/// [`field`] when it is a string.
pub fn str_field<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    field(value, key).and_then(Value::as_str)
}

/// The message of a CONNECT_ERROR payload: its `message` field in protocol v5, the payload itself
/// when it is a string (v4), else the payload as JSON-like text.
pub fn connect_error_message(data: &Value) -> String {
    match data {
        Value::String(s) => s.as_str().unwrap_or_default().to_owned(),
        other => str_field(other, "message").map_or_else(|| other.to_string(), str::to_owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(entries: &[(&str, Value)]) -> Value {
        Value::Map(
            entries
                .iter()
                .map(|(k, v)| (Value::from(*k), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn fields_of_objects_only() {
        let auth = object(&[("token", Value::from("t")), ("n", Value::from(1))]);
        assert_eq!(str_field(&auth, "token"), Some("t"));
        assert_eq!(field(&auth, "n"), Some(&Value::from(1)));
        assert_eq!(str_field(&auth, "n"), None);
        assert_eq!(field(&auth, "missing"), None);
        assert_eq!(field(&Value::from("token"), "token"), None);
        assert_eq!(field(&Value::Array(vec![]), "0"), None);
    }

    #[test]
    fn the_last_duplicate_key_counts() {
        let auth = object(&[("sid", Value::from("a")), ("sid", Value::from("b"))]);
        assert_eq!(str_field(&auth, "sid"), Some("b"));
    }

    #[test]
    fn connect_error_messages_of_both_versions() {
        let v5 = object(&[
            ("message", Value::from("unauthorized")),
            ("data", Value::Nil),
        ]);
        assert_eq!(connect_error_message(&v5), "unauthorized");
        assert_eq!(
            connect_error_message(&Value::from("Not authorized")),
            "Not authorized"
        );
        let odd = object(&[("code", Value::from(4))]);
        assert_eq!(connect_error_message(&odd), odd.to_string());
        assert_eq!(connect_error_message(&Value::from(4)), "4");
    }
}
