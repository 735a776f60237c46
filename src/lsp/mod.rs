//! `flowc lsp`: a language server over stdio. Diagnostics as you type (the
//! codes and messages of `flowc check`), hover on keywords and fields, go to
//! definition of labels and fields, completion, document symbols and
//! formatting (`flowc fmt`).

mod analysis;
mod position;

use std::collections::HashMap;
use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use lsp_server::{Connection, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, Notification as _,
    PublishDiagnostics,
};
use lsp_types::request::{
    Completion, DocumentSymbolRequest, Formatting, GotoDefinition, HoverRequest, Request as _,
};
use lsp_types::{
    CompletionItem, CompletionItemKind, CompletionOptions, DiagnosticSeverity, DocumentSymbol,
    GotoDefinitionResponse, Hover, HoverContents, Location, MarkupContent, MarkupKind,
    NumberOrString, OneOf, PublishDiagnosticsParams, ServerCapabilities,
    TextDocumentSyncCapability, TextDocumentSyncKind, TextEdit, Uri,
};

use crate::check::Target;
use analysis::{Document, Kind, Symbol, SymbolKind};
use position::LineIndex;

use crate::config::Config;

/// Runs the server on stdin and stdout until the client says exit.
pub fn serve() -> Result<()> {
    let (connection, io_threads) = Connection::stdio();
    let capabilities = ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        hover_provider: Some(lsp_types::HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec![" ".to_owned(), "{".to_owned()]),
            ..CompletionOptions::default()
        }),
        document_symbol_provider: Some(OneOf::Left(true)),
        document_formatting_provider: Some(OneOf::Left(true)),
        ..ServerCapabilities::default()
    };
    connection.initialize(serde_json::to_value(capabilities)?)?;
    let mut server = Server {
        connection,
        documents: HashMap::new(),
        configs: HashMap::new(),
    };
    server.run()?;
    // The writer thread ends once the connection's sender is gone.
    drop(server);
    io_threads.join()?;
    Ok(())
}

struct Server {
    connection: Connection,
    /// Open documents by URI: their text.
    documents: HashMap<Uri, String>,
    /// The `flowc.toml` files read, with the time each was changed: read
    /// again only when they change, not on every keystroke.
    configs: HashMap<PathBuf, (SystemTime, Option<Config>)>,
}

/// What can go wrong talking to the client.
pub type Result<T> = std::result::Result<T, Box<dyn Error + Sync + Send>>;

impl Server {
    fn run(&mut self) -> Result<()> {
        let receiver = self.connection.receiver.clone();
        for message in &receiver {
            match message {
                Message::Request(request) => {
                    if self.connection.handle_shutdown(&request)? {
                        return Ok(());
                    }
                    let response = self.respond(request);
                    self.connection.sender.send(Message::Response(response))?;
                }
                Message::Notification(notification) => self.notified(notification)?,
                Message::Response(_) => {}
            }
        }
        Ok(())
    }

    /// The params of a notification as its method takes them; `None`, and
    /// a message in the client's log, when they are not: a malformed
    /// notification is skipped, never the end of the server.
    fn params<P: serde::de::DeserializeOwned>(
        &self,
        notification: &Notification,
    ) -> Result<Option<P>> {
        match serde_json::from_value(notification.params.clone()) {
            Ok(params) => Ok(Some(params)),
            Err(error) => {
                let params = lsp_types::LogMessageParams {
                    typ: lsp_types::MessageType::ERROR,
                    message: format!("flowc lsp skipped a {}: {error}", notification.method),
                };
                let log = Notification::new(
                    lsp_types::notification::LogMessage::METHOD.to_owned(),
                    params,
                );
                self.connection.sender.send(Message::Notification(log))?;
                Ok(None)
            }
        }
    }

    fn notified(&mut self, notification: Notification) -> Result<()> {
        let uri = match notification.method.as_str() {
            DidOpenTextDocument::METHOD => {
                let Some(params) =
                    self.params::<lsp_types::DidOpenTextDocumentParams>(&notification)?
                else {
                    return Ok(());
                };
                let uri = params.text_document.uri;
                self.documents
                    .insert(uri.clone(), params.text_document.text);
                uri
            }
            DidChangeTextDocument::METHOD => {
                let Some(params) =
                    self.params::<lsp_types::DidChangeTextDocumentParams>(&notification)?
                else {
                    return Ok(());
                };
                let uri = params.text_document.uri;
                // Full sync: the last change holds the whole text.
                if let Some(change) = params.content_changes.into_iter().last() {
                    self.documents.insert(uri.clone(), change.text);
                }
                uri
            }
            DidCloseTextDocument::METHOD => {
                let Some(params) =
                    self.params::<lsp_types::DidCloseTextDocumentParams>(&notification)?
                else {
                    return Ok(());
                };
                self.documents.remove(&params.text_document.uri);
                return self.publish(params.text_document.uri, Vec::new());
            }
            _ => return Ok(()),
        };
        let diagnostics = self.diagnostics(&uri);
        self.publish(uri, diagnostics)
    }

    fn publish(&self, uri: Uri, diagnostics: Vec<lsp_types::Diagnostic>) -> Result<()> {
        let params = PublishDiagnosticsParams::new(uri, diagnostics, None);
        let notification = Notification::new(PublishDiagnostics::METHOD.to_owned(), params);
        self.connection
            .sender
            .send(Message::Notification(notification))?;
        Ok(())
    }

    /// The configuration a document in `dir` is checked against, as
    /// `flowc check` finds it; an invalid one checks nothing.
    fn config(&mut self, dir: &Path) -> Option<Config> {
        let path = Config::nearest(dir)?;
        let changed = std::fs::metadata(&path)
            .and_then(|meta| meta.modified())
            .ok()?;
        match self.configs.get(&path) {
            Some((seen, config)) if *seen == changed => config.clone(),
            _ => {
                let config = Config::read(&path).ok();
                self.configs.insert(path, (changed, config.clone()));
                config
            }
        }
    }

    fn diagnostics(&mut self, uri: &Uri) -> Vec<lsp_types::Diagnostic> {
        let path = file_path(uri);
        let dir = path.as_ref().and_then(|path| path.parent());
        let config = dir.and_then(|dir| self.config(dir));
        let Some(text) = self.documents.get(uri) else {
            return Vec::new();
        };
        let index = LineIndex::new(text);
        crate::check::check_source(text, dir, config.as_ref().map(Target::config))
            .iter()
            .map(|diagnostic| {
                let help = miette::Diagnostic::help(diagnostic)
                    .map(|help| format!("\nhelp: {help}"))
                    .unwrap_or_default();
                lsp_types::Diagnostic {
                    range: index.range(diagnostic.span()),
                    severity: Some(match diagnostic.severity() {
                        crate::diagnostic::Severity::Error => DiagnosticSeverity::ERROR,
                        crate::diagnostic::Severity::Warning => DiagnosticSeverity::WARNING,
                    }),
                    code: Some(NumberOrString::String(diagnostic.code())),
                    source: Some("flowc".to_owned()),
                    message: format!("{diagnostic}{help}"),
                    ..lsp_types::Diagnostic::default()
                }
            })
            .collect()
    }

    /// Answers a request; unknown requests get an error response.
    fn respond(&self, request: Request) -> Response {
        let id = request.id.clone();
        let result = match request.method.as_str() {
            HoverRequest::METHOD => self.hover(request),
            GotoDefinition::METHOD => self.definition(request),
            Completion::METHOD => self.completion(request),
            DocumentSymbolRequest::METHOD => self.symbols(request),
            Formatting::METHOD => self.formatting(request),
            method => {
                return Response::new_err(
                    id,
                    lsp_server::ErrorCode::MethodNotFound as i32,
                    format!("flowc lsp does not answer {method}"),
                )
            }
        };
        match result {
            Ok(value) => Response::new_ok(id, value),
            Err(error) => invalid(id, &error.to_string()),
        }
    }

    /// The text of a request's document and the byte offset it points at.
    fn at(&self, params: &lsp_types::TextDocumentPositionParams) -> Option<(&str, usize)> {
        let text = self.documents.get(&params.text_document.uri)?;
        Some((text, LineIndex::new(text).offset(params.position)))
    }

    fn hover(&self, request: Request) -> Result<serde_json::Value> {
        let params: lsp_types::HoverParams = serde_json::from_value(request.params)?;
        let hover = self
            .at(&params.text_document_position_params)
            .and_then(|(text, offset)| {
                let (markdown, span) = Document::parse(text).hover(offset)?;
                Some(Hover {
                    contents: HoverContents::Markup(MarkupContent {
                        kind: MarkupKind::Markdown,
                        value: markdown,
                    }),
                    range: Some(LineIndex::new(text).range(span)),
                })
            });
        Ok(serde_json::to_value(hover)?)
    }

    fn definition(&self, request: Request) -> Result<serde_json::Value> {
        let params: lsp_types::GotoDefinitionParams = serde_json::from_value(request.params)?;
        let place = &params.text_document_position_params;
        let found = self.at(place).and_then(|(text, offset)| {
            let span = Document::parse(text).definition(offset)?;
            Some(GotoDefinitionResponse::Scalar(Location::new(
                place.text_document.uri.clone(),
                LineIndex::new(text).range(span),
            )))
        });
        Ok(serde_json::to_value(found)?)
    }

    fn completion(&self, request: Request) -> Result<serde_json::Value> {
        let params: lsp_types::CompletionParams = serde_json::from_value(request.params)?;
        let items: Vec<CompletionItem> = self
            .at(&params.text_document_position)
            .map(|(text, offset)| {
                let before = LineIndex::new(text).line_before(offset);
                Document::parse(text)
                    .completions(offset, before)
                    .into_iter()
                    .map(|(label, kind)| CompletionItem {
                        label,
                        kind: Some(match kind {
                            Kind::Keyword => CompletionItemKind::KEYWORD,
                            Kind::Field => CompletionItemKind::FIELD,
                            Kind::Label => CompletionItemKind::REFERENCE,
                            Kind::Value => CompletionItemKind::VALUE,
                        }),
                        ..CompletionItem::default()
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(serde_json::to_value(items)?)
    }

    fn symbols(&self, request: Request) -> Result<serde_json::Value> {
        let params: lsp_types::DocumentSymbolParams = serde_json::from_value(request.params)?;
        let symbols: Vec<DocumentSymbol> = self
            .documents
            .get(&params.text_document.uri)
            .map(|text| {
                let index = LineIndex::new(text);
                analysis::outline(&Document::parse(text).file, text)
                    .into_iter()
                    .map(|symbol| document_symbol(symbol, &index))
                    .collect()
            })
            .unwrap_or_default();
        Ok(serde_json::to_value(symbols)?)
    }

    fn formatting(&self, request: Request) -> Result<serde_json::Value> {
        let params: lsp_types::DocumentFormattingParams = serde_json::from_value(request.params)?;
        let edits: Option<Vec<TextEdit>> =
            self.documents
                .get(&params.text_document.uri)
                .and_then(|text| {
                    let formatted = crate::format::format_source(text).ok()?;
                    let index = LineIndex::new(text);
                    let whole = index.range(crate::span::Span::new(0, text.len()));
                    Some(vec![TextEdit::new(whole, formatted)])
                });
        Ok(serde_json::to_value(edits)?)
    }
}

#[allow(deprecated)] // `deprecated` is a required field of the type.
fn document_symbol(symbol: Symbol, index: &LineIndex<'_>) -> DocumentSymbol {
    let range = index.range(symbol.span);
    DocumentSymbol {
        name: symbol.name,
        detail: Some(symbol.detail),
        kind: match symbol.kind {
            SymbolKind::Workflow => lsp_types::SymbolKind::MODULE,
            SymbolKind::Field => lsp_types::SymbolKind::FIELD,
            SymbolKind::Event => lsp_types::SymbolKind::EVENT,
            SymbolKind::Step => lsp_types::SymbolKind::FUNCTION,
        },
        tags: None,
        deprecated: None,
        range,
        selection_range: range,
        children: Some(
            symbol
                .children
                .into_iter()
                .map(|child| document_symbol(child, index))
                .collect(),
        ),
    }
}

fn invalid(id: RequestId, message: &str) -> Response {
    Response::new_err(
        id,
        lsp_server::ErrorCode::InvalidParams as i32,
        message.to_owned(),
    )
}

/// The local path of a `file:` URI, if it is one.
fn file_path(uri: &Uri) -> Option<PathBuf> {
    reqwest::Url::parse(uri.as_str()).ok()?.to_file_path().ok()
}
