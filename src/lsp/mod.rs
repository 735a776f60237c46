//! `flowc lsp`: a language server over stdio. Diagnostics as you type (the
//! codes and messages of `flowc check`, debounced), hover, go to
//! definition, references and rename, completion, code actions for every
//! "did you mean", document symbols, folding ranges, semantic tokens and
//! formatting (`flowc fmt`).
//!
//! Nothing the client sends ends the server but `exit`: a malformed
//! message gets a JSON-RPC error (or, for a notification, a line in the
//! client's log) and the server goes on.

// `lsp_types::Uri` keeps a lazily parsed form in a cell; its hash and
// equality are those of its text, so it is a sound map key.
#![allow(clippy::mutable_key_type)]

mod actions;
mod analysis;
mod complete;
mod docs;
mod documents;
mod names;
mod outline;
mod position;
mod requests;
mod transport;

use std::collections::HashSet;
use std::io::{self, Write};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, TryRecvError};
use std::time::Duration;

use lsp_server::{ErrorCode, Message, Notification, Request};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, Exit, LogMessage,
    Notification as _, PublishDiagnostics,
};
use lsp_types::request::{Initialize, Request as _, Shutdown};
use lsp_types::{
    DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString,
    PublishDiagnosticsParams, Uri,
};

use documents::{BadConfig, Documents};
use position::LineIndex;
use transport::{Incoming, Reply};

/// How long the client must be quiet before diagnostics are published: a
/// burst of keystrokes is checked once, at its end.
const DEBOUNCE: Duration = Duration::from_millis(150);

/// Runs the server on stdin and stdout until the client says exit.
pub fn serve() -> Result<()> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut input = io::stdin().lock();
        while let Ok(Some(incoming)) = transport::read(&mut input) {
            if sender.send(incoming).is_err() {
                break;
            }
        }
    });
    widen_pipe();
    keep_freed_memory();
    Server::new(io::stdout().lock()).run(&receiver)
}

/// Asks mimalloc (the allocator of the `flowc` binary) to hold memory it
/// frees for ten seconds before giving it back: each edit of a long file
/// parses it again into as much memory as the last parse freed, and
/// taking that memory back from the system each time (a page fault per
/// page) cost ~4 ms a parse on a 10,000-step file. After ten quiet
/// seconds it goes back. Nothing changes under another allocator.
fn keep_freed_memory() {
    /// `mi_option_purge_delay` in mimalloc.h (milliseconds).
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: sets a plain option; mimalloc reads options atomically.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 10_000) };
}

/// Lets a large answer (the outline of a long file runs to megabytes) go
/// to a client reading from a pipe in a few writes rather than in
/// 64 KB turns: the pipe is widened to the most the system allows. Not a
/// pipe, or not allowed: nothing changes.
fn widen_pipe() {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let most = std::fs::read_to_string("/proc/sys/fs/pipe-max-size")
            .ok()
            .and_then(|most| most.trim().parse::<libc::c_int>().ok())
            .unwrap_or(1 << 20);
        // SAFETY: fcntl on a descriptor this process owns; it fails
        // harmlessly on anything but a pipe.
        unsafe { libc::fcntl(io::stdout().as_raw_fd(), libc::F_SETPIPE_SZ, most) };
    }
}

/// What can go wrong talking to the client.
pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Sync + Send>>;

/// Where the server is in the protocol's life cycle.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Before `initialize`: requests are refused with -32002.
    Starting,
    /// Answering.
    Running,
    /// After `shutdown`: only `exit` is heard.
    ShuttingDown,
}

struct Server<W> {
    output: W,
    phase: Phase,
    documents: Documents,
    /// Documents changed since their diagnostics were last published.
    stale: HashSet<Uri>,
}

impl<W: Write> Server<W> {
    fn new(output: W) -> Self {
        Server {
            output,
            phase: Phase::Starting,
            documents: Documents::default(),
            stale: HashSet::new(),
        }
    }

    fn run(&mut self, receiver: &Receiver<Incoming>) -> Result<()> {
        let mut queued = None;
        loop {
            let incoming = match queued.take() {
                Some(incoming) => incoming,
                None => match self.next(receiver)? {
                    Some(incoming) => incoming,
                    None => return Ok(()),
                },
            };
            if let Some(end) = self.handle(incoming)? {
                return end;
            }
            // The client is quiet: parse what changed on other threads, so
            // the next request finds the work done or under way.
            match receiver.try_recv() {
                Ok(incoming) => queued = Some(incoming),
                Err(TryRecvError::Empty) => self.documents.start(&self.stale),
                Err(TryRecvError::Disconnected) => {}
            }
        }
    }

    /// The next message; diagnostics of changed documents are published
    /// once the client has been quiet for [`DEBOUNCE`]. `None` at the end.
    fn next(&mut self, receiver: &Receiver<Incoming>) -> Result<Option<Incoming>> {
        while !self.stale.is_empty() {
            match receiver.recv_timeout(DEBOUNCE) {
                Ok(incoming) => return Ok(Some(incoming)),
                Err(RecvTimeoutError::Timeout) => self.publish_stale()?,
                Err(RecvTimeoutError::Disconnected) => return Ok(None),
            }
        }
        Ok(receiver.recv().ok())
    }

    /// Handles one message; `Some` when the server is to end, with how.
    fn handle(&mut self, incoming: Incoming) -> Result<Option<Result<()>>> {
        match incoming {
            Incoming::Malformed(malformed) => {
                self.log(&format!(
                    "flowc lsp could not read a message: {}",
                    malformed.reason
                ))?;
                self.write(&malformed.response())?;
            }
            Incoming::Response | Incoming::Message(Message::Response(_)) => {}
            Incoming::Message(Message::Request(request)) => self.requested(request)?,
            Incoming::Message(Message::Notification(notification)) => {
                if notification.method == Exit::METHOD {
                    return Ok(Some(match self.phase {
                        Phase::ShuttingDown => Ok(()),
                        _ => Err("the client said exit without asking to shut down first".into()),
                    }));
                }
                if self.phase == Phase::Running {
                    self.notified(&notification)?;
                }
            }
        }
        Ok(None)
    }

    fn requested(&mut self, request: Request) -> Result<()> {
        let id = request.id.clone();
        let reply = match (self.phase, request.method.as_str()) {
            (Phase::Starting, Initialize::METHOD) => {
                self.phase = Phase::Running;
                Reply::ok(id, &requests::initialize_result())
            }
            (Phase::Starting, _) => Reply::error(
                id,
                ErrorCode::ServerNotInitialized,
                "the server is not initialized yet: send `initialize` first",
            ),
            (_, Initialize::METHOD) => Reply::error(
                id,
                ErrorCode::InvalidRequest,
                "the server is already initialized",
            ),
            (Phase::ShuttingDown, _) => Reply::error(
                id,
                ErrorCode::InvalidRequest,
                "the server is shutting down: only `exit` is heard now",
            ),
            (Phase::Running, Shutdown::METHOD) => {
                self.phase = Phase::ShuttingDown;
                Reply::ok(id, &())
            }
            (Phase::Running, _) => requests::answer(&self.documents, request),
        };
        transport::reply(&mut self.output, &reply).map_err(cannot_write)
    }

    /// The params of a notification as its method takes them; `None`, and
    /// a line in the client's log, when they are not.
    fn params<P: serde::de::DeserializeOwned>(
        &mut self,
        notification: &Notification,
    ) -> Result<Option<P>> {
        match serde_json::from_value(notification.params.clone()) {
            Ok(params) => Ok(Some(params)),
            Err(error) => {
                let method = &notification.method;
                self.log(&format!(
                    "flowc lsp skipped a {method} notification: {error}"
                ))?;
                Ok(None)
            }
        }
    }

    fn notified(&mut self, notification: &Notification) -> Result<()> {
        match notification.method.as_str() {
            DidOpenTextDocument::METHOD => {
                if let Some(params) =
                    self.params::<lsp_types::DidOpenTextDocumentParams>(notification)?
                {
                    let uri = params.text_document.uri;
                    self.documents.set(uri.clone(), params.text_document.text);
                    self.stale.insert(uri);
                }
            }
            DidChangeTextDocument::METHOD => {
                if let Some(params) =
                    self.params::<lsp_types::DidChangeTextDocumentParams>(notification)?
                {
                    // Full sync: the last change holds the whole text; no
                    // change leaves the text as it was.
                    if let Some(change) = params.content_changes.into_iter().last() {
                        let uri = params.text_document.uri;
                        self.documents.set(uri.clone(), change.text);
                        self.stale.insert(uri);
                    }
                }
            }
            DidCloseTextDocument::METHOD => {
                if let Some(params) =
                    self.params::<lsp_types::DidCloseTextDocumentParams>(notification)?
                {
                    let uri = params.text_document.uri;
                    self.documents.close(&uri);
                    self.stale.remove(&uri);
                    self.publish(uri, Vec::new())?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Checks every document changed since the last time and publishes
    /// what was found.
    fn publish_stale(&mut self) -> Result<()> {
        for uri in std::mem::take(&mut self.stale) {
            let Some(published) = self.check(&uri) else {
                continue;
            };
            self.publish(uri, published)?;
        }
        Ok(())
    }

    /// A document's diagnostics as the client shows them, in the order
    /// `flowc check` prints them.
    fn check(&mut self, uri: &Uri) -> Option<Vec<lsp_types::Diagnostic>> {
        let checked = self.documents.check(uri)?;
        let mut found = checked.syntax;
        found.extend(&checked.semantic);
        found.sort_by_cached_key(|diagnostic| (diagnostic.span(), diagnostic.code()));
        let index = LineIndex::new(checked.text);
        let mut published: Vec<_> = found
            .into_iter()
            .map(|diagnostic| to_lsp(diagnostic, &index, uri))
            .collect();
        published.extend(checked.bad_config.as_ref().map(config_diagnostic));
        Some(published)
    }

    fn publish(&mut self, uri: Uri, diagnostics: Vec<lsp_types::Diagnostic>) -> Result<()> {
        let params = PublishDiagnosticsParams::new(uri, diagnostics, None);
        self.notify(Notification::new(
            PublishDiagnostics::METHOD.to_owned(),
            params,
        ))
    }

    /// A plain sentence in the client's log.
    fn log(&mut self, message: &str) -> Result<()> {
        let params = lsp_types::LogMessageParams {
            typ: lsp_types::MessageType::ERROR,
            message: message.to_owned(),
        };
        self.notify(Notification::new(LogMessage::METHOD.to_owned(), params))
    }

    fn notify(&mut self, notification: Notification) -> Result<()> {
        transport::notify(&mut self.output, &notification).map_err(cannot_write)
    }

    fn write(&mut self, message: &serde_json::Value) -> Result<()> {
        transport::write(&mut self.output, message).map_err(cannot_write)
    }
}

/// A failed write to the client, in a sentence.
fn cannot_write(error: std::io::Error) -> Box<dyn std::error::Error + Sync + Send> {
    format!("cannot write to the client: {error}").into()
}

/// A diagnostic of `flowc check` as the client shows it: the message with
/// its help, and every secondary label as related information.
fn to_lsp(
    diagnostic: &crate::diagnostic::Diagnostic,
    index: &LineIndex<'_>,
    uri: &Uri,
) -> lsp_types::Diagnostic {
    let help = miette::Diagnostic::help(diagnostic)
        .map(|help| format!("\nhelp: {help}"))
        .unwrap_or_default();
    let primary = diagnostic.span();
    let related: Vec<DiagnosticRelatedInformation> = miette::Diagnostic::labels(diagnostic)
        .into_iter()
        .flatten()
        .filter(|label| !label.primary())
        .map(|label| {
            let span = crate::span::Span::new(label.offset(), label.offset() + label.len());
            DiagnosticRelatedInformation {
                location: Location::new(uri.clone(), index.range(span)),
                message: label.label().unwrap_or("related").to_owned(),
            }
        })
        .filter(|info| info.location.range != index.range(primary))
        .collect();
    lsp_types::Diagnostic {
        range: index.range(primary),
        severity: Some(severity(diagnostic.severity())),
        code: Some(NumberOrString::String(diagnostic.code())),
        source: Some("flowc".to_owned()),
        message: format!("{diagnostic}{help}"),
        related_information: (!related.is_empty()).then_some(related),
        ..lsp_types::Diagnostic::default()
    }
}

fn severity(severity: crate::diagnostic::Severity) -> DiagnosticSeverity {
    match severity {
        crate::diagnostic::Severity::Error => DiagnosticSeverity::ERROR,
        crate::diagnostic::Severity::Warning => DiagnosticSeverity::WARNING,
    }
}

/// An invalid `flowc.toml`, shown on the first line of the document it
/// was to check, with where in `flowc.toml` as related information.
fn config_diagnostic(bad: &BadConfig) -> lsp_types::Diagnostic {
    let shown = bad.path.display();
    let related = documents::file_uri(&bad.path).map(|uri| {
        let index = LineIndex::new(&bad.text);
        let span = bad
            .error
            .as_ref()
            .map(|error| error.span)
            .unwrap_or_default();
        vec![DiagnosticRelatedInformation {
            location: Location::new(uri, index.range(span)),
            message: bad.reason.clone(),
        }]
    });
    lsp_types::Diagnostic {
        range: lsp_types::Range::default(),
        severity: Some(DiagnosticSeverity::ERROR),
        code: Some(NumberOrString::String("E0600".to_owned())),
        source: Some("flowc".to_owned()),
        message: format!(
            "{shown} cannot be used: {}; channels and identities were not checked\nhelp: see the README's Channels section for every key of flowc.toml",
            bad.reason
        ),
        related_information: related,
        ..lsp_types::Diagnostic::default()
    }
}
