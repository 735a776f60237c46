//! Answers to the client's requests, each over the document's kept parse.

use lsp_server::{ErrorCode, Request, Response};
use lsp_types::request::{
    Completion, DocumentSymbolRequest, FoldingRangeRequest, Formatting, GotoDefinition,
    HoverRequest, Request as _,
};
use lsp_types::{
    CompletionItem, CompletionItemKind, CompletionOptions, DocumentSymbol, GotoDefinitionResponse,
    Hover, HoverContents, InitializeResult, Location, MarkupContent, MarkupKind, OneOf,
    ServerCapabilities, ServerInfo, TextDocumentSyncCapability, TextDocumentSyncKind, TextEdit,
    Uri,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::analysis::Kind;
use super::documents::{Documents, Open};
use super::outline::{self, Symbol, SymbolKind};
use super::position::LineIndex;

/// What the server can do, for `initialize`.
pub fn initialize_result() -> InitializeResult {
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
        folding_range_provider: Some(lsp_types::FoldingRangeProviderCapability::Simple(true)),
        ..ServerCapabilities::default()
    };
    InitializeResult {
        capabilities,
        server_info: Some(ServerInfo {
            name: "flowc".to_owned(),
            version: Some(env!("CARGO_PKG_VERSION").to_owned()),
        }),
    }
}

/// Answers a request: its result, an error for params it cannot read, or
/// "method not found".
pub fn answer(documents: &Documents, request: Request) -> Response {
    let id = request.id.clone();
    let result = match request.method.as_str() {
        HoverRequest::METHOD => run(documents, request, hover),
        GotoDefinition::METHOD => run(documents, request, definition),
        Completion::METHOD => run(documents, request, completion),
        DocumentSymbolRequest::METHOD => run(documents, request, symbols),
        Formatting::METHOD => run(documents, request, formatting),
        FoldingRangeRequest::METHOD => run(documents, request, folding),
        method => {
            let message = format!("flowc lsp does not answer {method}");
            return Response::new_err(id, ErrorCode::MethodNotFound as i32, message);
        }
    };
    match result {
        Ok(value) => Response::new_ok(id, value),
        Err(message) => Response::new_err(id, ErrorCode::InvalidParams as i32, message),
    }
}

/// Reads the params, finds the document and answers with `handler`; a
/// document the client has not opened gets `null`.
fn run<P, R>(
    documents: &Documents,
    request: Request,
    handler: fn(&Open, &Uri, P) -> R,
) -> Result<Value, String>
where
    P: DeserializeOwned + HasDocument,
    R: serde::Serialize,
{
    let method = request.method;
    let params: P = serde_json::from_value(request.params)
        .map_err(|error| format!("the params of {method} could not be read: {error}"))?;
    let uri = params.uri().clone();
    let answer = documents.get(&uri).map(|open| handler(open, &uri, params));
    serde_json::to_value(answer).map_err(|error| error.to_string())
}

/// Params that name a document.
trait HasDocument {
    fn uri(&self) -> &Uri;
}

macro_rules! has_document {
    ($($params:ty => |$p:ident| $uri:expr;)*) => {$(
        impl HasDocument for $params {
            fn uri(&self) -> &Uri {
                let $p = self;
                &$uri
            }
        }
    )*};
}

has_document! {
    lsp_types::HoverParams => |p| p.text_document_position_params.text_document.uri;
    lsp_types::GotoDefinitionParams => |p| p.text_document_position_params.text_document.uri;
    lsp_types::CompletionParams => |p| p.text_document_position.text_document.uri;
    lsp_types::DocumentSymbolParams => |p| p.text_document.uri;
    lsp_types::DocumentFormattingParams => |p| p.text_document.uri;
    lsp_types::FoldingRangeParams => |p| p.text_document.uri;
}

fn hover(open: &Open, _: &Uri, params: lsp_types::HoverParams) -> Option<Hover> {
    let index = LineIndex::new(&open.text);
    let offset = index.offset(params.text_document_position_params.position);
    let (markdown, span) = open.document().hover(offset)?;
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: markdown,
        }),
        range: Some(index.range(span)),
    })
}

fn definition(
    open: &Open,
    uri: &Uri,
    params: lsp_types::GotoDefinitionParams,
) -> Option<GotoDefinitionResponse> {
    let index = LineIndex::new(&open.text);
    let offset = index.offset(params.text_document_position_params.position);
    let span = open.document().definition(offset)?;
    Some(GotoDefinitionResponse::Scalar(Location::new(
        uri.clone(),
        index.range(span),
    )))
}

fn completion(open: &Open, _: &Uri, params: lsp_types::CompletionParams) -> Vec<CompletionItem> {
    let index = LineIndex::new(&open.text);
    let offset = index.offset(params.text_document_position.position);
    let before = index.line_before(offset);
    open.document()
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
}

fn symbols(open: &Open, _: &Uri, _: lsp_types::DocumentSymbolParams) -> Vec<DocumentSymbol> {
    let index = LineIndex::new(&open.text);
    outline::outline(open.document().file, &open.text)
        .into_iter()
        .map(|symbol| document_symbol(symbol, &index))
        .collect()
}

fn folding(open: &Open, _: &Uri, _: lsp_types::FoldingRangeParams) -> Vec<lsp_types::FoldingRange> {
    let symbols = outline::outline(open.document().file, &open.text);
    outline::folds(&symbols, &open.text)
        .into_iter()
        .map(|(first, last)| lsp_types::FoldingRange {
            start_line: first as u32,
            end_line: last as u32,
            ..lsp_types::FoldingRange::default()
        })
        .collect()
}

fn formatting(
    open: &Open,
    _: &Uri,
    _: lsp_types::DocumentFormattingParams,
) -> Option<Vec<TextEdit>> {
    let formatted = crate::format::format_source(&open.text).ok()?;
    let index = LineIndex::new(&open.text);
    let whole = index.range(crate::span::Span::new(0, open.text.len()));
    Some(vec![TextEdit::new(whole, formatted)])
}

#[allow(deprecated)] // `deprecated` is a required field of the type.
fn document_symbol(symbol: Symbol, index: &LineIndex<'_>) -> DocumentSymbol {
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
        range: index.range(symbol.span),
        selection_range: index.range(symbol.name_span),
        children: Some(
            symbol
                .children
                .into_iter()
                .map(|child| document_symbol(child, index))
                .collect(),
        ),
    }
}
