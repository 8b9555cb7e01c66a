//! `sio emit`: connects, sends one event (and waits for its acknowledgement), disconnects.

use std::process::ExitCode;
use std::time::Duration;

use base64::Engine as _;
use sio_client::{AckError, Value};

use crate::connect::{self, ConnectArgs, EXIT_ACK_TIMEOUT, EXIT_CONNECTION, EXIT_USAGE, Failure};
use crate::decode::json::Json;
use crate::decode::value::to_json;
use crate::output;

pub(crate) const EXAMPLES: &str = "\
Arguments: each ARG is read as JSON (42, true, null, '\"text\"', '{\"a\":[1]}'), else taken as a
string (hello). Binary data is written {\"_binary\":true,\"base64\":\"AQID\"}, as sio listen
shows it.

Examples:
  sio emit http://localhost:3000 chat hello '{\"room\":\"lobby\"}'
  sio emit http://localhost:3000 echo 1 two --ack               prints [1,\"two\"]
  sio emit http://localhost:3000/admin kick --auth '{\"token\":\"abc\"}'
  sio emit http://old-server:8080 ping --protocol v4 --ack --timeout 2000

Without --ack, sio exits once the event is written, then closes the connection without a
namespace DISCONNECT (servers see a transport close; Node's socket.io drops an event that
arrives together with a DISCONNECT). With --ack, the server's answer is printed as one JSON
array on stdout.

Exit status: 0 when sent (and acknowledged), 1 when the connection fails, is refused (the
server's message is printed) or drops before the acknowledgement, or the event cannot be sent
(binary data to a Socket.IO 0.9 server), 2 on usage errors (bad URL, option or event name), 3
when no acknowledgement comes within --timeout.";

/// Options of `sio emit`.
#[derive(Debug, clap::Args)]
pub(crate) struct EmitArgs {
    /// Server URL; its path is the namespace (http://localhost:3000/chat → /chat).
    url: String,
    /// Event name.
    event: String,
    /// Arguments, each JSON or else a string.
    #[arg(value_name = "ARG", allow_negative_numbers = true)]
    args: Vec<String>,
    /// Ask for an acknowledgement, wait for it and print its arguments as a JSON array.
    #[arg(long)]
    ack: bool,
    /// How long to wait for the acknowledgement, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 10_000, requires = "ack")]
    timeout: u64,
    #[command(flatten)]
    connect: ConnectArgs,
    #[command(flatten)]
    signalr: crate::signalr::SignalrArgs,
    #[command(flatten)]
    signalr_emit: crate::signalr::SignalrEmitArgs,
}

/// Runs `sio emit`.
pub(crate) async fn run(args: EmitArgs) -> ExitCode {
    match emit(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}

async fn emit(args: EmitArgs) -> Result<(), Failure> {
    if let Some(target) = crate::signalr::target(&args.url, &args.connect, &args.signalr)? {
        let ack = args.ack.then(|| Duration::from_millis(args.timeout));
        return crate::signalr::emit(target, &args.event, &args.args, ack, &args.signalr_emit)
            .await;
    }
    if sio_socketio_proto::is_reserved_event(&args.event) {
        return Err(Failure::new(
            EXIT_USAGE,
            format!(
                "{:?} is reserved by Socket.IO and cannot be emitted (reserved: connect, \
                 connect_error, disconnect, disconnecting, newListener, removeListener)",
                args.event
            ),
        ));
    }
    let values: Vec<Value> = args
        .args
        .iter()
        .enumerate()
        .map(|(index, arg)| parse_arg(index, arg))
        .collect::<Result<_, _>>()
        .map_err(|message| Failure::new(EXIT_USAGE, message))?;
    let (client, mut events) = connect::open(&args.url, &args.connect, false).await?;
    if !args.ack {
        let sent = client.emit_values(&args.event, values);
        // Waits until the event is written. The connection is closed without the namespace's
        // DISCONNECT packet: Node's socket.io 3+ ignores an event read together with one.
        client.manager().close().await;
        sent.map_err(|e| Failure::new(EXIT_CONNECTION, format!("cannot send: {e}")))?;
        return match send_error(&mut events) {
            Some(error) => Err(Failure::new(EXIT_CONNECTION, error)),
            None => Ok(()),
        };
    }
    let timeout = Duration::from_millis(args.timeout);
    let answer = tokio::select! {
        answer = client.emit_with_ack_timeout::<_, Vec<Value>>(&args.event, &values, timeout) => answer,
        reason = connect::lost(&mut events) => {
            return Err(Failure::new(
                EXIT_CONNECTION,
                format!("no acknowledgement: {reason}"),
            ));
        }
    };
    client.close().await;
    match answer {
        Ok(answer) => {
            output::print_json_line(&Json::Array(answer.iter().map(to_json).collect()));
            Ok(())
        }
        Err(AckError::Timeout) => Err(Failure::new(
            EXIT_ACK_TIMEOUT,
            format!(
                "no acknowledgement of {:?} within {} ms\n  does the server handle this event \
                 and call its callback? (raise the wait with --timeout MS)",
                args.event, args.timeout
            ),
        )),
        Err(error) => Err(Failure::new(
            EXIT_CONNECTION,
            format!("no acknowledgement: {error}"),
        )),
    }
}

/// An `error` the client reported while sending (e.g. binary data for a Socket.IO 0.9
/// server, which cannot carry it). It was queued before the close completed.
fn send_error(events: &mut sio_client::EventStream) -> Option<String> {
    use futures_util::FutureExt as _;
    while let Some(Some(event)) = events.next().now_or_never() {
        if let sio_client::ClientEvent::Error(error) = event {
            return Some(error);
        }
    }
    None
}

/// One command-line argument: JSON when it parses, else the text itself. A binary object
/// (`{"_binary":true,…}`) whose data is not base64 is an error, not an object sent as it is.
pub(crate) fn parse_arg(index: usize, arg: &str) -> Result<Value, String> {
    match serde_json::from_str::<Json>(arg) {
        Ok(json) => from_json(&json).map_err(|error| format!("argument {}: {error}", index + 1)),
        Err(error) => {
            if arg.trim_start().starts_with(['{', '[']) {
                eprintln!(
                    "sio: note: argument {} looks like JSON but is not ({error}); sent as a string",
                    index + 1
                );
            }
            Ok(Value::from(arg))
        }
    }
}

/// JSON as a Socket.IO value; `{"_binary":true,"base64":"…"}` is binary data.
fn from_json(json: &Json) -> Result<Value, String> {
    Ok(match json {
        Json::Null => Value::Nil,
        Json::Bool(b) => Value::Boolean(*b),
        Json::Number(n) => n
            .as_u64()
            .map(Value::from)
            .or_else(|| n.as_i64().map(Value::from))
            .or_else(|| n.as_f64().map(Value::F64))
            .unwrap_or(Value::Nil),
        Json::String(s) => Value::from(s.as_str()),
        Json::Array(items) => Value::Array(items.iter().map(from_json).collect::<Result<_, _>>()?),
        Json::Object(entries) => {
            if let Some(bytes) = binary_of(json)? {
                return Ok(Value::Binary(bytes));
            }
            Value::Map(
                entries
                    .iter()
                    .map(|(key, value)| Ok((Value::from(key.as_str()), from_json(value)?)))
                    .collect::<Result<_, String>>()?,
            )
        }
    })
}

/// The data of a binary object (`"_binary": true`), which must have a base64 `base64` field.
fn binary_of(json: &Json) -> Result<Option<Vec<u8>>, String> {
    if json.get("_binary") != Some(&Json::Bool(true)) {
        return Ok(None);
    }
    let Some(text) = json.get("base64").and_then(Json::as_str) else {
        return Err(
            "binary data ({\"_binary\":true}) needs its bytes as a \"base64\" string, e.g. \
             {\"_binary\":true,\"base64\":\"AQID\"}"
                .to_owned(),
        );
    };
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map(Some)
        .map_err(|error| format!("binary data whose \"base64\" is not base64 ({error}): {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_json_or_strings() {
        assert_eq!(parse_arg(0, "42").unwrap(), Value::from(42));
        assert_eq!(parse_arg(0, "-1.5").unwrap(), Value::F64(-1.5));
        assert_eq!(parse_arg(0, "hello").unwrap(), Value::from("hello"));
        assert_eq!(parse_arg(0, "\"42\"").unwrap(), Value::from("42"));
        assert_eq!(parse_arg(0, "null").unwrap(), Value::Nil);
        assert_eq!(parse_arg(0, "{oops").unwrap(), Value::from("{oops"));
        assert_eq!(
            parse_arg(0, r#"{"b":1,"a":[true]}"#).unwrap(),
            Value::Map(vec![
                (Value::from("b"), Value::from(1)),
                (Value::from("a"), Value::Array(vec![Value::Boolean(true)])),
            ])
        );
    }

    #[test]
    fn binary_round_trips_with_the_listen_form() {
        let value = parse_arg(0, r#"{"_binary":true,"base64":"AQID"}"#).unwrap();
        assert_eq!(value, Value::Binary(vec![1, 2, 3]));
        assert_eq!(
            to_json(&value).to_compact(),
            r#"{"_binary":true,"length":3,"base64":"AQID"}"#
        );
    }

    #[test]
    fn binary_that_is_not_base64_is_refused() {
        let error = parse_arg(1, r#"{"_binary":true,"base64":"!!!"}"#).unwrap_err();
        assert!(error.starts_with("argument 2: binary data"), "{error}");
        assert!(parse_arg(0, r#"{"_binary":true}"#).is_err());
        assert!(parse_arg(0, r#"[1,{"_binary":true,"base64":7}]"#).is_err());
        // Without `"_binary": true` it is an ordinary object.
        assert!(matches!(
            parse_arg(0, r#"{"_binary":false,"base64":"!!!"}"#).unwrap(),
            Value::Map(_)
        ));
    }
}
