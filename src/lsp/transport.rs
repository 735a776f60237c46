//! The language server's wire: `Content-Length` framed JSON-RPC read
//! defensively (a capped body size, resynchronisation after a bad header,
//! one error per malformed message) and written one message at a time.

use std::borrow::Cow;
use std::io::{self, BufRead, Read, Write};

use lsp_server::{ErrorCode, Message, Notification, Request};
use serde_json::value::RawValue;
use serde_json::{json, Value};

/// The largest message body read, in bytes; larger ones are skipped
/// without being held in memory. A whole 10,000-step file is about 1 MB.
pub const MAX_BODY: u64 = 64 << 20;

/// The longest header line read; longer ones are cut there.
const MAX_HEADER_LINE: u64 = 4096;

/// What the client sent: a message, or why one could not be read.
#[derive(Debug)]
pub enum Incoming {
    /// A request or notification.
    Message(Message),
    /// A response: dropped, as the server sends no requests.
    Response,
    /// Something that is not a message; answered with an error.
    Malformed(Malformed),
}

/// A message that could not be read, and the JSON-RPC error it gets.
#[derive(Debug)]
pub struct Malformed {
    /// The request's `id` when one could be read (any JSON value, even one
    /// the server could not use), else `null`.
    pub id: Value,
    /// The JSON-RPC error code.
    pub code: ErrorCode,
    /// A sentence saying what was wrong.
    pub reason: String,
}

impl Malformed {
    fn new(id: Value, code: ErrorCode, reason: impl Into<String>) -> Self {
        Malformed {
            id,
            code,
            reason: reason.into(),
        }
    }

    /// The error response to send.
    pub fn response(&self) -> Value {
        json!({
            "jsonrpc": "2.0",
            "id": self.id,
            "error": {"code": self.code as i32, "message": self.reason},
        })
    }
}

/// Reads the next message; `None` at the end of the stream.
pub fn read(input: &mut impl BufRead) -> io::Result<Option<Incoming>> {
    let length = match read_headers(input)? {
        Headers::End => return Ok(None),
        Headers::Length(length) => length,
        Headers::Invalid(reason) => {
            return Ok(Some(Incoming::Malformed(Malformed::new(
                Value::Null,
                ErrorCode::ParseError,
                reason,
            ))))
        }
    };
    if length > MAX_BODY {
        let skipped = io::copy(&mut input.take(length), &mut io::sink())?;
        let reason = format!(
            "a message of {length} bytes is over the limit of {MAX_BODY} bytes and was skipped"
        );
        return Ok((skipped == length).then(|| {
            Incoming::Malformed(Malformed::new(
                Value::Null,
                ErrorCode::InvalidRequest,
                reason,
            ))
        }));
    }
    let mut body = Vec::with_capacity(length as usize);
    input.take(length).read_to_end(&mut body)?;
    if (body.len() as u64) < length {
        return Ok(None);
    }
    Ok(Some(classify(&body)))
}

enum Headers {
    End,
    Length(u64),
    Invalid(String),
}

/// Reads header lines up to the blank line. A header line with junk before
/// `Content-Length:` (the rest of a body whose length was wrong) is read
/// from the header on, so the stream finds its feet again.
fn read_headers(input: &mut impl BufRead) -> io::Result<Headers> {
    let mut length = None;
    let mut seen_any = false;
    loop {
        let mut line = Vec::new();
        input.take(MAX_HEADER_LINE).read_until(b'\n', &mut line)?;
        if line.is_empty() {
            return Ok(Headers::End);
        }
        let line = String::from_utf8_lossy(&line);
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            if !seen_any {
                continue;
            }
            return Ok(match length {
                Some(Ok(length)) => Headers::Length(length),
                Some(Err(value)) => Headers::Invalid(format!(
                    "the Content-Length header `{value}` is not a number of bytes"
                )),
                None => Headers::Invalid("a message came without a Content-Length header".into()),
            });
        }
        seen_any = true;
        let lower = line.to_ascii_lowercase();
        if let Some(at) = lower.find("content-length:") {
            let value = line[at + "content-length:".len()..].trim();
            length = Some(value.parse::<u64>().map_err(|_| value.to_owned()));
        }
    }
}

/// A body as a request or notification, or why it is neither.
fn classify(body: &[u8]) -> Incoming {
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(error) => {
            let reason = format!("the message is not valid JSON ({error})");
            return Incoming::Malformed(Malformed::new(Value::Null, ErrorCode::ParseError, reason));
        }
    };
    let Value::Object(object) = value else {
        let reason = if value.is_array() {
            "batches of messages are not part of the language server protocol; send them one by one"
        } else {
            "a message must be a JSON object"
        };
        return Incoming::Malformed(Malformed::new(
            Value::Null,
            ErrorCode::InvalidRequest,
            reason,
        ));
    };
    let id = object.get("id").cloned();
    let invalid = |reason: &str| {
        let id = id.clone().unwrap_or(Value::Null);
        Incoming::Malformed(Malformed::new(id, ErrorCode::InvalidRequest, reason))
    };
    match (object.get("method"), &id) {
        (Some(Value::String(_)), Some(raw)) => {
            let usable = raw.is_string() || raw.as_i64().is_some_and(|n| i32::try_from(n).is_ok());
            if !usable {
                return invalid("a request id must be a string or a number that fits in 32 bits");
            }
            match serde_json::from_value::<Request>(Value::Object(object)) {
                Ok(request) => Incoming::Message(Message::Request(request)),
                Err(error) => invalid(&format!("the request could not be read ({error})")),
            }
        }
        (Some(Value::String(_)), None) => {
            match serde_json::from_value::<Notification>(Value::Object(object)) {
                Ok(notification) => Incoming::Message(Message::Notification(notification)),
                Err(error) => invalid(&format!("the notification could not be read ({error})")),
            }
        }
        (Some(_), _) => invalid("a message's method must be a string"),
        (None, Some(_)) => Incoming::Response,
        (None, None) => invalid("a message needs a method (or an id, for a response)"),
    }
}

/// The server's answer to a request: its result, already serialized (a
/// large result is written once, never copied into a tree), or an error.
pub struct Reply {
    /// The request's id.
    pub id: lsp_server::RequestId,
    /// The result, or why there is none.
    pub result: Result<Box<RawValue>, lsp_server::ResponseError>,
}

impl Reply {
    /// A successful answer.
    pub fn ok(id: lsp_server::RequestId, result: &impl serde::Serialize) -> Reply {
        let result =
            serde_json::value::to_raw_value(result).map_err(|error| lsp_server::ResponseError {
                code: ErrorCode::InternalError as i32,
                message: format!("the answer could not be written: {error}"),
                data: None,
            });
        Reply { id, result }
    }

    /// An error answer.
    pub fn error(id: lsp_server::RequestId, code: ErrorCode, message: impl Into<String>) -> Reply {
        let error = lsp_server::ResponseError {
            code: code as i32,
            message: message.into(),
            data: None,
        };
        Reply {
            id,
            result: Err(error),
        }
    }
}

/// Writes an answer, framed, its result as it was serialized (a large
/// result is not copied into an envelope first).
pub fn reply(output: &mut impl Write, reply: &Reply) -> io::Result<()> {
    let id = serde_json::to_string(&reply.id).map_err(io::Error::other)?;
    let (key, value) = match &reply.result {
        Ok(result) => ("result", Cow::Borrowed(result.get())),
        Err(error) => (
            "error",
            Cow::Owned(serde_json::to_string(error).map_err(io::Error::other)?),
        ),
    };
    let head = format!(r#"{{"jsonrpc":"2.0","id":{id},"{key}":"#);
    framed(output, &[&head, &value, "}"])
}

/// Writes a notification, framed.
pub fn notify(output: &mut impl Write, notification: &Notification) -> io::Result<()> {
    let wire = json!({
        "jsonrpc": "2.0",
        "method": notification.method,
        "params": notification.params,
    });
    framed(output, &[&wire.to_string()])
}

/// Writes any message as it is, framed.
pub fn write(output: &mut impl Write, message: &Value) -> io::Result<()> {
    framed(output, &[&message.to_string()])
}

/// Writes a message whose body is `parts` one after the other.
fn framed(output: &mut impl Write, parts: &[&str]) -> io::Result<()> {
    let length: usize = parts.iter().map(|part| part.len()).sum();
    write!(output, "Content-Length: {length}\r\n\r\n")?;
    for part in parts {
        output.write_all(part.as_bytes())?;
    }
    output.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(bytes: &[u8]) -> Vec<Incoming> {
        let mut input = io::BufReader::new(bytes);
        std::iter::from_fn(|| read(&mut input).expect("reads")).collect()
    }

    fn framed(body: &str) -> String {
        format!("Content-Length: {}\r\n\r\n{body}", body.len())
    }

    fn codes(incoming: &[Incoming]) -> Vec<Option<i32>> {
        incoming
            .iter()
            .map(|incoming| match incoming {
                Incoming::Message(_) | Incoming::Response => None,
                Incoming::Malformed(malformed) => Some(malformed.code as i32),
            })
            .collect()
    }

    const PING: &str = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;

    #[test]
    fn a_huge_length_is_skipped_without_allocating_it() {
        let stream = format!("Content-Length: 99999999999999\r\n\r\n{PING}");
        // The stream ends before the announced body: nothing more to read.
        assert!(frames(stream.as_bytes()).is_empty());
    }

    #[test]
    fn bad_messages_get_their_errors_and_the_stream_goes_on() {
        let stream = [
            "Content-Length: twelve\r\n\r\n{}".to_owned(),
            framed(PING),
            framed("{not json"),
            framed(&format!("[{PING}]")),
            framed("42"),
            framed(r#"{"jsonrpc":"2.0","id":99999999999,"method":"ping"}"#),
            framed(r#"{"jsonrpc":"2.0","id":2,"method":7}"#),
            "Content-Type: x\r\n\r\n".to_owned(),
            framed(PING),
        ]
        .concat();
        let incoming = frames(stream.as_bytes());
        let parse = Some(ErrorCode::ParseError as i32);
        let invalid = Some(ErrorCode::InvalidRequest as i32);
        assert_eq!(
            codes(&incoming),
            [parse, None, parse, invalid, invalid, invalid, invalid, parse, None]
        );
        let Incoming::Malformed(big_id) = &incoming[5] else {
            panic!("malformed")
        };
        assert_eq!(big_id.response()["id"], 99_999_999_999_u64);
    }
}
