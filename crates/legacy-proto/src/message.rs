//! Messages: `[type]:[id ('+')]:[endpoint](:[data])`.

use std::fmt;

use serde_json::Value;

use crate::error::{DecodeError, EncodeError};
use crate::json;

/// Error reasons the 0.9 parsers know, indexed by their wire number (`7:::2` is
/// `"unauthorized"`).
pub const ERROR_REASONS: [&str; 3] = [
    "transport not supported",
    "client not handshaken",
    "unauthorized",
];

/// Error advice the 0.9 parsers know, indexed by their wire number (`7:::2+0` advises
/// `"reconnect"`).
pub const ERROR_ADVICE: [&str; 1] = ["reconnect"];

/// Event names the specification reserves: applications must not emit them as events.
/// The codec does not enforce this.
pub const RESERVED_EVENTS: [&str; 8] = [
    "message",
    "connect",
    "disconnect",
    "open",
    "close",
    "error",
    "retry",
    "reconnect",
];

/// The message type digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum MessageType {
    /// `0`: leave an endpoint, or close the whole socket when the endpoint is empty.
    Disconnect = 0,
    /// `1`: join an endpoint (the server echoes it to accept).
    Connect = 1,
    /// `2`: heartbeat; the server sends it, the client echoes it.
    Heartbeat = 2,
    /// `3`: a text message.
    Message = 3,
    /// `4`: a JSON message.
    Json = 4,
    /// `5`: an event `{"name":…,"args":[…]}`.
    Event = 5,
    /// `6`: acknowledgement of a message id.
    Ack = 6,
    /// `7`: an error, with reason and advice.
    Error = 7,
    /// `8`: no operation (closes a poll).
    Noop = 8,
}

impl MessageType {
    /// The type for a wire digit (`b'0'`..=`b'8'`).
    pub const fn from_digit(digit: u8) -> Option<Self> {
        Some(match digit {
            b'0' => Self::Disconnect,
            b'1' => Self::Connect,
            b'2' => Self::Heartbeat,
            b'3' => Self::Message,
            b'4' => Self::Json,
            b'5' => Self::Event,
            b'6' => Self::Ack,
            b'7' => Self::Error,
            b'8' => Self::Noop,
            _ => return None,
        })
    }

    /// The wire digit, `'0'`..=`'8'`.
    pub const fn digit(self) -> char {
        (b'0' + self as u8) as char
    }

    /// The name the 0.9 parsers use (`"disconnect"`, `"connect"`, …).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Disconnect => "disconnect",
            Self::Connect => "connect",
            Self::Heartbeat => "heartbeat",
            Self::Message => "message",
            Self::Json => "json",
            Self::Event => "event",
            Self::Ack => "ack",
            Self::Error => "error",
            Self::Noop => "noop",
        }
    }
}

impl fmt::Display for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A message id: `5` (acknowledged automatically by the receiving library) or `5+`
/// (`user_ack`: the receiver's application answers with data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MessageId {
    /// The id.
    pub id: u64,
    /// Whether the id was followed by `+`.
    pub user_ack: bool,
}

impl MessageId {
    /// An id the receiving library acknowledges by itself (`5`).
    pub const fn auto(id: u64) -> Self {
        Self {
            id,
            user_ack: false,
        }
    }

    /// An id whose acknowledgement carries the application's answer (`5+`).
    pub const fn user(id: u64) -> Self {
        Self { id, user_ack: true }
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.id, if self.user_ack { "+" } else { "" })
    }
}

/// One Socket.IO 0.9 message: `[type]:[id ('+')]:[endpoint](:[data])`.
///
/// The endpoint is the namespace (`""` for the main one, else e.g. `"/chat"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// `0::/chat`: leave an endpoint; `0::` closes the whole socket.
    Disconnect {
        /// The endpoint.
        endpoint: String,
    },
    /// `1::/chat` or `1::/chat:?my=param`: join an endpoint.
    Connect {
        /// The endpoint.
        endpoint: String,
        /// The query string sent as data (`?my=param`); never `Some("")`.
        query: Option<String>,
    },
    /// `2::`.
    Heartbeat,
    /// `3:::text`.
    Message {
        /// Id asking for an acknowledgement.
        id: Option<MessageId>,
        /// The endpoint.
        endpoint: String,
        /// The text (may be empty).
        data: String,
    },
    /// `4:::{"a":"b"}`.
    Json {
        /// Id asking for an acknowledgement.
        id: Option<MessageId>,
        /// The endpoint.
        endpoint: String,
        /// The JSON value.
        data: Value,
    },
    /// `5:1+:/chat:{"name":"join","args":[{"room":1}]}`.
    Event {
        /// Id asking for an acknowledgement.
        id: Option<MessageId>,
        /// The endpoint.
        endpoint: String,
        /// The event name.
        name: String,
        /// The arguments (`args` is left out of the JSON when empty).
        args: Vec<Value>,
    },
    /// `6:::1+["ok"]` or `6:::1`.
    Ack {
        /// The endpoint.
        endpoint: String,
        /// The id of the acknowledged message.
        ack_id: u64,
        /// The answer (`+[…]` is left out when empty).
        args: Vec<Value>,
    },
    /// `7:::2+0`: an error. Known reasons and advice travel as indexes into
    /// [`ERROR_REASONS`] and [`ERROR_ADVICE`]; others are kept verbatim.
    Error {
        /// The endpoint.
        endpoint: String,
        /// The reason, e.g. `"unauthorized"` (may be empty).
        reason: String,
        /// The advice, e.g. `"reconnect"`; never `Some("")`.
        advice: Option<String>,
    },
    /// `8::`.
    Noop,
}

impl Message {
    /// The message type.
    pub const fn message_type(&self) -> MessageType {
        match self {
            Self::Disconnect { .. } => MessageType::Disconnect,
            Self::Connect { .. } => MessageType::Connect,
            Self::Heartbeat => MessageType::Heartbeat,
            Self::Message { .. } => MessageType::Message,
            Self::Json { .. } => MessageType::Json,
            Self::Event { .. } => MessageType::Event,
            Self::Ack { .. } => MessageType::Ack,
            Self::Error { .. } => MessageType::Error,
            Self::Noop => MessageType::Noop,
        }
    }

    /// The endpoint (`""` for heartbeat and noop).
    pub fn endpoint(&self) -> &str {
        match self {
            Self::Disconnect { endpoint }
            | Self::Connect { endpoint, .. }
            | Self::Message { endpoint, .. }
            | Self::Json { endpoint, .. }
            | Self::Event { endpoint, .. }
            | Self::Ack { endpoint, .. }
            | Self::Error { endpoint, .. } => endpoint,
            Self::Heartbeat | Self::Noop => "",
        }
    }

    /// The message id, for the types that carry one.
    pub const fn id(&self) -> Option<MessageId> {
        match self {
            Self::Message { id, .. } | Self::Json { id, .. } | Self::Event { id, .. } => *id,
            _ => None,
        }
    }

    /// Decodes one message; same as [`decode`].
    pub fn decode(input: &str) -> Result<Self, DecodeError> {
        decode(input)
    }

    /// Appends the wire form to `out`, as the 0.9 parsers write it.
    ///
    /// Never fails. The output decodes back to `self` when [`validate`](Self::validate)
    /// accepts `self`; otherwise the wire format cannot express the value (an endpoint with
    /// `:`, an error reason with `+`, …) and the output decodes to something else.
    pub fn encode(&self, out: &mut String) {
        out.push(self.message_type().digit());
        out.push(':');
        if let Some(id) = self.id() {
            push_u64(out, id.id);
            if id.user_ack {
                out.push('+');
            }
        }
        out.push(':');
        out.push_str(self.endpoint());
        match self {
            Self::Disconnect { .. } | Self::Heartbeat | Self::Noop => {}
            Self::Connect { query, .. } => {
                if let Some(q) = query.as_deref().filter(|q| !q.is_empty()) {
                    out.push(':');
                    out.push_str(q);
                }
            }
            Self::Message { data, .. } => {
                if !data.is_empty() {
                    out.push(':');
                    out.push_str(data);
                }
            }
            Self::Json { data, .. } => {
                out.push(':');
                json::push_value(out, data);
            }
            Self::Event { name, args, .. } => {
                out.push_str(":{\"name\":");
                json::push_str_literal(out, name, false);
                if !args.is_empty() {
                    out.push_str(",\"args\":");
                    json::push_array(out, args);
                }
                out.push('}');
            }
            Self::Ack { ack_id, args, .. } => {
                out.push(':');
                push_u64(out, *ack_id);
                if !args.is_empty() {
                    out.push('+');
                    json::push_array(out, args);
                }
            }
            Self::Error { reason, advice, .. } => {
                let advice = advice.as_deref().filter(|a| !a.is_empty());
                if !reason.is_empty() || advice.is_some() {
                    out.push(':');
                    push_named(out, reason, &ERROR_REASONS);
                    if let Some(advice) = advice {
                        out.push('+');
                        push_named(out, advice, &ERROR_ADVICE);
                    }
                }
            }
        }
    }

    /// The wire form as a new string (same as `to_string()`).
    pub fn to_encoded(&self) -> String {
        let mut out = String::new();
        self.encode(&mut out);
        out
    }

    /// Checks that [`encode`](Self::encode) writes something that decodes back to `self`.
    ///
    /// Every message produced by [`decode`] passes.
    pub fn validate(&self) -> Result<(), EncodeError> {
        let endpoint = self.endpoint();
        if endpoint.contains(':') {
            return Err(EncodeError::EndpointColon(endpoint.to_owned()));
        }
        match self {
            Self::Connect { query: Some(q), .. } if q.is_empty() => {
                Err(EncodeError::EmptyOption("query"))
            }
            Self::Error { reason, advice, .. } => {
                if reason.contains('+') {
                    return Err(EncodeError::ReasonPlus(reason.clone()));
                }
                if index_of(reason, &ERROR_REASONS).is_none()
                    && named_index(reason, &ERROR_REASONS).is_some()
                {
                    return Err(EncodeError::AmbiguousIndex(reason.clone()));
                }
                match advice.as_deref() {
                    Some("") => Err(EncodeError::EmptyOption("advice")),
                    Some(a)
                        if index_of(a, &ERROR_ADVICE).is_none()
                            && named_index(a, &ERROR_ADVICE).is_some() =>
                    {
                        Err(EncodeError::AmbiguousIndex(a.to_owned()))
                    }
                    _ => Ok(()),
                }
            }
            _ => Ok(()),
        }
    }
}

impl fmt::Display for Message {
    /// Writes the wire form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_encoded())
    }
}

impl std::str::FromStr for Message {
    type Err = DecodeError;

    fn from_str(s: &str) -> Result<Self, DecodeError> {
        decode(s)
    }
}

/// Decodes one message.
///
/// Stricter than the 0.9 JavaScript parser, which turns anything it cannot read into an
/// empty or partial packet: here every such input is an error saying what and where.
///
/// ```
/// use sio_legacy_proto::{decode, Message, MessageId};
///
/// let msg = decode(r#"5:1+:/chat:{"name":"join","args":[{"room":1}]}"#)?;
/// assert_eq!(
///     msg,
///     Message::Event {
///         id: Some(MessageId::user(1)),
///         endpoint: "/chat".into(),
///         name: "join".into(),
///         args: vec![serde_json::json!({"room": 1})],
///     }
/// );
/// # Ok::<(), sio_legacy_proto::DecodeError>(())
/// ```
pub fn decode(input: &str) -> Result<Message, DecodeError> {
    let raw = Raw::split(input)?;
    let kind = raw.kind;
    let endpoint = || raw.endpoint.to_owned();

    if raw.id.is_some()
        && !matches!(
            kind,
            MessageType::Message | MessageType::Json | MessageType::Event
        )
    {
        return Err(DecodeError::UnexpectedId {
            kind,
            offset: ID_OFFSET,
        });
    }
    if matches!(kind, MessageType::Heartbeat | MessageType::Noop) && !raw.endpoint.is_empty() {
        return Err(DecodeError::UnexpectedEndpoint {
            kind,
            offset: raw.endpoint_offset,
        });
    }
    if matches!(
        kind,
        MessageType::Disconnect | MessageType::Heartbeat | MessageType::Noop
    ) && !raw.data.is_empty()
    {
        return Err(DecodeError::UnexpectedData {
            kind,
            offset: raw.data_offset,
        });
    }

    let data = raw.data;
    let data_offset = raw.data_offset;
    Ok(match kind {
        MessageType::Disconnect => Message::Disconnect {
            endpoint: endpoint(),
        },
        MessageType::Connect => Message::Connect {
            endpoint: endpoint(),
            query: (!data.is_empty()).then(|| data.to_owned()),
        },
        MessageType::Heartbeat => Message::Heartbeat,
        MessageType::Noop => Message::Noop,
        MessageType::Message => Message::Message {
            id: raw.id,
            endpoint: endpoint(),
            data: data.to_owned(),
        },
        MessageType::Json => Message::Json {
            id: raw.id,
            endpoint: endpoint(),
            data: json::parse(data, data_offset, "json message data")?,
        },
        MessageType::Event => {
            let event: json::EventData = json::parse(data, data_offset, "event data")?;
            Message::Event {
                id: raw.id,
                endpoint: endpoint(),
                name: event.name,
                args: event.args,
            }
        }
        MessageType::Ack => {
            let (ack_id, args) = data.split_once('+').unwrap_or((data, ""));
            let ack_id =
                parse_u64(ack_id, data_offset, "ack id")?.ok_or(DecodeError::InvalidAckId {
                    offset: data_offset,
                })?;
            let args_offset = data_offset + data.len() - args.len();
            Message::Ack {
                endpoint: endpoint(),
                ack_id,
                // `6:::1+` (a '+' with nothing after it) reads as no arguments, as in the
                // 0.9 parser.
                args: if args.is_empty() {
                    Vec::new()
                } else {
                    json::parse(args, args_offset, "ack arguments")?
                },
            }
        }
        MessageType::Error => {
            let (reason, advice) = match data.split_once('+') {
                Some((r, a)) => (r, Some(a)),
                None => (data, None),
            };
            Message::Error {
                endpoint: endpoint(),
                reason: named(reason, &ERROR_REASONS),
                advice: advice
                    .filter(|a| !a.is_empty())
                    .map(|a| named(a, &ERROR_ADVICE)),
            }
        }
    })
}

const ID_OFFSET: usize = 2;

/// The fields of a message before the type-specific data is read.
struct Raw<'a> {
    kind: MessageType,
    id: Option<MessageId>,
    endpoint: &'a str,
    endpoint_offset: usize,
    /// Empty when the data field is absent.
    data: &'a str,
    data_offset: usize,
}

impl<'a> Raw<'a> {
    fn split(input: &'a str) -> Result<Self, DecodeError> {
        let bytes = input.as_bytes();
        let kind = match bytes {
            [] => return Err(DecodeError::Empty),
            [digit] | [digit, b':', ..] => MessageType::from_digit(*digit),
            _ => None,
        }
        .ok_or(DecodeError::InvalidType { offset: 0 })?;
        // The type is one ASCII digit, so byte 1 is a char boundary.
        let rest = input.get(1..).unwrap_or_default();
        let rest = rest
            .strip_prefix(':')
            .ok_or(DecodeError::MissingSeparator {
                after: "message type",
                offset: 1,
            })?;
        let (id, rest) = rest.split_once(':').ok_or(DecodeError::MissingSeparator {
            after: "message id",
            offset: input.len(),
        })?;
        let endpoint_offset = ID_OFFSET + id.len() + 1;
        let id = parse_id(id)?;
        let (endpoint, data) = rest.split_once(':').unwrap_or((rest, ""));
        Ok(Self {
            kind,
            id,
            endpoint,
            endpoint_offset,
            data,
            // Without a data field, point at the end of the input.
            data_offset: (endpoint_offset + endpoint.len() + 1).min(input.len()),
        })
    }
}

fn parse_id(field: &str) -> Result<Option<MessageId>, DecodeError> {
    if field.is_empty() {
        return Ok(None);
    }
    let (digits, user_ack) = match field.strip_suffix('+') {
        Some(digits) => (digits, true),
        None => (field, false),
    };
    let id = parse_u64(digits, ID_OFFSET, "message id")?
        .ok_or(DecodeError::InvalidId { offset: ID_OFFSET })?;
    Ok(Some(MessageId { id, user_ack }))
}

/// Parses a non-empty run of ASCII digits. `Ok(None)` when `s` is empty or has a non-digit;
/// an error only when the digits overflow.
pub(crate) fn parse_u64(
    s: &str,
    offset: usize,
    what: &'static str,
) -> Result<Option<u64>, DecodeError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    s.bytes()
        .try_fold(0u64, |n, b| {
            n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        })
        .map(Some)
        .ok_or(DecodeError::NumberOverflow { what, offset })
}

fn push_u64(out: &mut String, n: u64) {
    use std::fmt::Write as _;
    let _ = write!(out, "{n}");
}

/// The index of `name` in `table`.
fn index_of(name: &str, table: &[&str]) -> Option<usize> {
    table.iter().position(|t| *t == name)
}

/// The table entry that the wire text `text` names: exactly the decimal index, as the
/// JavaScript property lookup `reasons["1"]` works (`"01"` names nothing).
fn named_index<'t>(text: &str, table: &[&'t str]) -> Option<&'t str> {
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    if !canonical {
        return None;
    }
    table.get(text.parse::<usize>().ok()?).copied()
}

fn named(text: &str, table: &[&str]) -> String {
    named_index(text, table).unwrap_or(text).to_owned()
}

fn push_named(out: &mut String, name: &str, table: &[&str]) {
    match index_of(name, table) {
        Some(i) => push_u64(out, i as u64),
        None => out.push_str(name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn enc(m: &Message) -> String {
        m.to_encoded()
    }

    #[test]
    fn type_digits() {
        for d in 0..=8u8 {
            let t = MessageType::from_digit(b'0' + d).unwrap();
            assert_eq!(t as u8, d);
            assert_eq!(t.digit(), char::from(b'0' + d));
        }
        assert_eq!(MessageType::from_digit(b'9'), None);
        assert_eq!(MessageType::Event.to_string(), "event");
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_u64("0", 0, "n").unwrap(), Some(0));
        assert_eq!(parse_u64("007", 0, "n").unwrap(), Some(7));
        assert_eq!(
            parse_u64("18446744073709551615", 0, "n").unwrap(),
            Some(u64::MAX)
        );
        assert!(parse_u64("18446744073709551616", 4, "n").is_err());
        assert_eq!(parse_u64("", 0, "n").unwrap(), None);
        assert_eq!(parse_u64("1a", 0, "n").unwrap(), None);
        assert_eq!(parse_u64("-1", 0, "n").unwrap(), None);
        assert_eq!(parse_u64("١", 0, "n").unwrap(), None);
    }

    #[test]
    fn named_lookup_is_exact() {
        assert_eq!(named("2", &ERROR_REASONS), "unauthorized");
        assert_eq!(named("02", &ERROR_REASONS), "02");
        assert_eq!(named("3", &ERROR_REASONS), "3");
        assert_eq!(named("+1", &ERROR_REASONS), "+1");
        assert_eq!(named("parse", &ERROR_REASONS), "parse");
    }

    #[test]
    fn error_encoding_uses_indexes() {
        let m = Message::Error {
            endpoint: String::new(),
            reason: "parse".into(),
            advice: Some("reconnect".into()),
        };
        assert_eq!(enc(&m), "7:::parse+0");
        let m = Message::Error {
            endpoint: String::new(),
            reason: String::new(),
            advice: Some("reconnect".into()),
        };
        assert_eq!(enc(&m), "7:::+0");
        assert_eq!(decode("7:::+0").unwrap(), m);
    }

    #[test]
    fn validate_rejects_what_cannot_round_trip() {
        let ep = |e: &str| Message::Disconnect { endpoint: e.into() };
        assert!(ep("/a").validate().is_ok());
        assert_eq!(
            ep("/a:b").validate(),
            Err(EncodeError::EndpointColon("/a:b".into()))
        );
        let err = |r: &str, a: Option<&str>| Message::Error {
            endpoint: String::new(),
            reason: r.into(),
            advice: a.map(Into::into),
        };
        assert!(err("unauthorized", Some("reconnect")).validate().is_ok());
        assert!(err("x", Some("a+b")).validate().is_ok());
        assert!(err("02", Some("00")).validate().is_ok());
        assert!(matches!(
            err("a+b", None).validate(),
            Err(EncodeError::ReasonPlus(_))
        ));
        assert!(matches!(
            err("1", None).validate(),
            Err(EncodeError::AmbiguousIndex(_))
        ));
        assert!(matches!(
            err("", Some("0")).validate(),
            Err(EncodeError::AmbiguousIndex(_))
        ));
        assert!(matches!(
            err("", Some("")).validate(),
            Err(EncodeError::EmptyOption("advice"))
        ));
        let c = Message::Connect {
            endpoint: "/a".into(),
            query: Some(String::new()),
        };
        assert_eq!(c.validate(), Err(EncodeError::EmptyOption("query")));
        assert_eq!(enc(&c), "1::/a");
    }

    #[test]
    fn accessors() {
        let m = decode("5:7::{\"name\":\"x\"}").unwrap();
        assert_eq!(m.id(), Some(MessageId::auto(7)));
        assert_eq!(m.endpoint(), "");
        assert_eq!(m.message_type(), MessageType::Event);
        assert_eq!(Message::Heartbeat.endpoint(), "");
        assert_eq!(MessageId::user(3).to_string(), "3+");
        assert_eq!(m.to_string(), "5:7::{\"name\":\"x\"}");
        let parsed: Message = "2::".parse().unwrap();
        assert_eq!(parsed, Message::Heartbeat);
        assert_eq!(
            decode("4:::[1,2.5,null]").unwrap(),
            Message::Json {
                id: None,
                endpoint: String::new(),
                data: json!([1, 2.5, null])
            }
        );
    }
}
