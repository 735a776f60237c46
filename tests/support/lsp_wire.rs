//! The language server's wire as a client writes and reads it: JSON-RPC
//! bodies framed by a `Content-Length` header (shared by `tests/lsp.rs`
//! and `benches/lsp.rs`).

use std::io::{BufRead, Write};

/// Writes one message, framed, and flushes it.
pub fn write(input: &mut impl Write, message: &serde_json::Value) {
    let body = message.to_string();
    write!(input, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("written");
    input.flush().expect("flushed");
}

/// Reads the body of the next message.
pub fn read(output: &mut impl BufRead) -> Vec<u8> {
    let mut length = 0;
    loop {
        let mut line = String::new();
        output.read_line(&mut line).expect("a header line");
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(value) = line.strip_prefix("Content-Length: ") {
            length = value.parse().expect("a length");
        }
    }
    let mut body = vec![0; length];
    output.read_exact(&mut body).expect("a body");
    body
}
