//! Local servers for the delivery benchmarks, on 127.0.0.1 with a free
//! port each: an HTTP server that answers JSON APIs after a delay and
//! speaks the part of Twilio's Calls API flowc uses, and an SMTP server
//! that accepts every message and notes when.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// An HTTP/1.1 server (keep-alive, a thread per connection): `POST /api/…`
/// answers `{"ok": true}` after `api_delay`; `POST …/Calls.json` places a
/// call after `call_delay`; `GET …/Calls/SID.json` says it was answered.
pub struct SlowHttp {
    /// Its port.
    pub port: u16,
}

impl SlowHttp {
    /// Starts the server; it serves until the process ends.
    pub fn start(api_delay: Duration, call_delay: Duration) -> SlowHttp {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
        let port = listener.local_addr().expect("an address").port();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || serve_http(stream, api_delay, call_delay));
            }
        });
        SlowHttp { port }
    }
}

/// Answers the requests of one connection until it closes.
fn serve_http(stream: TcpStream, api_delay: Duration, call_delay: Duration) {
    let mut writer = stream.try_clone().expect("a second handle");
    let mut reader = BufReader::new(stream);
    let mut calls = 0;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let path = request_line.split(' ').nth(1).unwrap_or_default();
        let (status, answer) = if path.ends_with("/Calls.json") {
            std::thread::sleep(call_delay);
            calls += 1;
            let port = writer.local_addr().map_or(0, |address| address.port());
            let sid = format!("CA{port}x{:?}x{calls}", std::thread::current().id());
            let sid: String = sid.chars().filter(char::is_ascii_alphanumeric).collect();
            (
                "201 Created",
                format!(r#"{{"sid": "{sid}", "status": "queued"}}"#),
            )
        } else if path.contains("/Calls/") {
            (
                "200 OK",
                r#"{"status": "completed", "answered_by": "human"}"#.to_owned(),
            )
        } else {
            std::thread::sleep(api_delay);
            ("200 OK", r#"{"ok": true}"#.to_owned())
        };
        let response = format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{answer}",
            answer.len()
        );
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

/// An SMTP server that accepts every message (no TLS, no authentication)
/// and notes the instant it accepted each.
pub struct SmtpSink {
    /// Its port.
    pub port: u16,
    accepted: Arc<Mutex<Vec<Instant>>>,
}

impl SmtpSink {
    /// Starts the server; it serves until the process ends.
    pub fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
        let port = listener.local_addr().expect("an address").port();
        let accepted = Arc::new(Mutex::new(Vec::new()));
        let noted = Arc::clone(&accepted);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let noted = Arc::clone(&noted);
                std::thread::spawn(move || serve_smtp(stream, &noted));
            }
        });
        SmtpSink { port, accepted }
    }

    /// The instants at which it accepted messages, so far.
    pub fn accepted(&self) -> Vec<Instant> {
        self.accepted.lock().expect("not poisoned").clone()
    }

    /// Forgets the messages accepted so far.
    pub fn clear(&self) {
        self.accepted.lock().expect("not poisoned").clear();
    }
}

/// Speaks SMTP on one connection until QUIT.
fn serve_smtp(stream: TcpStream, accepted: &Mutex<Vec<Instant>>) {
    let mut writer = stream.try_clone().expect("a second handle");
    let mut reader = BufReader::new(stream);
    let mut say = |text: &str| writer.write_all(format!("{text}\r\n").as_bytes()).is_ok();
    if !say("220 sink ESMTP") {
        return;
    }
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let command = line.trim_end().to_ascii_uppercase();
        let answered = if command.starts_with("DATA") {
            say("354 go on");
            loop {
                line.clear();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                if line.trim_end() == "." {
                    break;
                }
            }
            accepted.lock().expect("not poisoned").push(Instant::now());
            say("250 accepted")
        } else if command.starts_with("QUIT") {
            say("221 bye");
            return;
        } else {
            say("250 ok")
        };
        if !answered {
            return;
        }
    }
}
