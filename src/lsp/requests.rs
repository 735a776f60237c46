//! Answers to the client's requests, each over the document's kept parse.

use lsp_server::{ErrorCode, Request};
use lsp_types::request::{
    CodeActionRequest, Completion, DocumentSymbolRequest, FoldingRangeRequest, Formatting,
    GotoDefinition, HoverRequest, OnTypeFormatting, PrepareRenameRequest, References, Rename,
    Request as _, SemanticTokensFullRequest,
};
use lsp_types::{
    CompletionItem, CompletionItemKind, CompletionOptions, DocumentSymbol, GotoDefinitionResponse,
    Hover, HoverContents, InitializeResult, Location, MarkupContent, MarkupKind, OneOf,
    ServerCapabilities, ServerInfo, TextDocumentSyncCapability, TextDocumentSyncKind, TextEdit,
    Uri,
};
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use super::actions;
use super::analysis::Kind;
use super::documents::{Documents, Open};
use super::names;
use super::outline;
use super::position::LineIndex;
use super::transport::Reply;
use crate::syntax::outline::{Symbol, SymbolKind};

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
        document_on_type_formatting_provider: Some(lsp_types::DocumentOnTypeFormattingOptions {
            first_trigger_character: "\n".to_owned(),
            more_trigger_character: None,
        }),
        references_provider: Some(OneOf::Left(true)),
        rename_provider: Some(OneOf::Right(lsp_types::RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: lsp_types::WorkDoneProgressOptions::default(),
        })),
        code_action_provider: Some(lsp_types::CodeActionProviderCapability::Options(
            lsp_types::CodeActionOptions {
                code_action_kinds: Some(vec![lsp_types::CodeActionKind::QUICKFIX]),
                ..lsp_types::CodeActionOptions::default()
            },
        )),
        semantic_tokens_provider: Some(
            lsp_types::SemanticTokensServerCapabilities::SemanticTokensOptions(
                lsp_types::SemanticTokensOptions {
                    legend: names::legend(),
                    full: Some(lsp_types::SemanticTokensFullOptions::Bool(true)),
                    ..lsp_types::SemanticTokensOptions::default()
                },
            ),
        ),
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
pub fn answer(documents: &Documents, request: Request) -> Reply {
    let id = request.id.clone();
    let result = match request.method.as_str() {
        HoverRequest::METHOD => run(documents, request, hover),
        GotoDefinition::METHOD => run(documents, request, definition),
        Completion::METHOD => run(documents, request, completion),
        DocumentSymbolRequest::METHOD => run(documents, request, symbols),
        Formatting::METHOD => run(documents, request, formatting),
        OnTypeFormatting::METHOD => run(documents, request, on_type_formatting),
        FoldingRangeRequest::METHOD => run(documents, request, folding),
        References::METHOD => run(documents, request, references),
        PrepareRenameRequest::METHOD => run_refusable(documents, request, prepare_rename),
        Rename::METHOD => run_refusable(documents, request, rename),
        CodeActionRequest::METHOD => run(documents, request, actions::quick_fixes),
        SemanticTokensFullRequest::METHOD => run(documents, request, semantic_tokens),
        method => {
            let message = format!("flowc lsp does not answer {method}");
            return Reply::error(id, ErrorCode::MethodNotFound, message);
        }
    };
    Reply { id, result }
}

/// Reads the params, finds the document and answers with `handler`; a
/// document the client has not opened gets `null`.
fn run<P, R>(
    documents: &Documents,
    request: Request,
    handler: fn(&Open, &Uri, P) -> R,
) -> Result<Box<RawValue>, lsp_server::ResponseError>
where
    P: DeserializeOwned + HasDocument,
    R: serde::Serialize,
{
    let refusable = |open: &Open, uri: &Uri, params: P| Ok(handler(open, uri, params));
    run_refusable(documents, request, refusable)
}

/// [`run`] for a handler that may refuse with an error of its own.
fn run_refusable<P, R>(
    documents: &Documents,
    request: Request,
    handler: impl Fn(&Open, &Uri, P) -> Refusable<R>,
) -> Result<Box<RawValue>, lsp_server::ResponseError>
where
    P: DeserializeOwned + HasDocument,
    R: serde::Serialize,
{
    let method = request.method;
    let params: P =
        serde_json::from_value(request.params).map_err(|error| lsp_server::ResponseError {
            code: ErrorCode::InvalidParams as i32,
            message: format!("the params of {method} could not be read: {error}"),
            data: None,
        })?;
    let uri = params.uri().clone();
    let answer = match documents.get(&uri) {
        Some(open) => Some(handler(open, &uri, params)?),
        None => None,
    };
    Reply::ok(lsp_server::RequestId::from(0), &answer).result
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
    lsp_types::DocumentOnTypeFormattingParams => |p| p.text_document_position.text_document.uri;
    lsp_types::ReferenceParams => |p| p.text_document_position.text_document.uri;
    lsp_types::TextDocumentPositionParams => |p| p.text_document.uri;
    lsp_types::RenameParams => |p| p.text_document_position.text_document.uri;
    lsp_types::CodeActionParams => |p| p.text_document.uri;
    lsp_types::SemanticTokensParams => |p| p.text_document.uri;
}

fn hover(open: &Open, _: &Uri, params: lsp_types::HoverParams) -> Option<Hover> {
    let index = LineIndex::new(&open.text);
    let offset = index.offset(params.text_document_position_params.position);
    // Hover reads the tokens and the tree: both parsed at once.
    open.start();
    let (markdown, span) = open.document().hover(offset, open.tokens())?;
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
    open.outline()
        .iter()
        .map(|symbol| document_symbol(symbol, &index))
        .collect()
}

fn folding(open: &Open, _: &Uri, _: lsp_types::FoldingRangeParams) -> Vec<lsp_types::FoldingRange> {
    outline::folds(open.outline(), &open.text)
        .into_iter()
        .map(|(first, last)| lsp_types::FoldingRange {
            start_line: first as u32,
            end_line: last as u32,
            ..lsp_types::FoldingRange::default()
        })
        .collect()
}

fn references(open: &Open, uri: &Uri, params: lsp_types::ReferenceParams) -> Vec<Location> {
    let index = LineIndex::new(&open.text);
    let offset = index.offset(params.text_document_position.position);
    let tokens = open.tokens();
    let Some((token, role)) = names::name_at(tokens, offset) else {
        return Vec::new();
    };
    let declarations = params.context.include_declaration;
    names::occurrences(tokens, &open.text, token, role, declarations)
        .into_iter()
        .map(|span| Location::new(uri.clone(), index.range(span)))
        .collect()
}

/// A rename that cannot be done is an error the client shows as it is.
type Refusable<T> = Result<T, lsp_server::ResponseError>;

fn refused(reason: names::Refused) -> lsp_server::ResponseError {
    lsp_server::ResponseError {
        code: ErrorCode::RequestFailed as i32,
        message: reason.0,
        data: None,
    }
}

fn prepare_rename(
    open: &Open,
    _: &Uri,
    params: lsp_types::TextDocumentPositionParams,
) -> Refusable<lsp_types::Range> {
    let index = LineIndex::new(&open.text);
    let offset = index.offset(params.position);
    let span = names::prepare(open.tokens(), &open.text, offset).map_err(refused)?;
    Ok(index.range(span))
}

fn rename(
    open: &Open,
    uri: &Uri,
    params: lsp_types::RenameParams,
) -> Refusable<lsp_types::WorkspaceEdit> {
    let index = LineIndex::new(&open.text);
    let offset = index.offset(params.text_document_position.position);
    let spans =
        names::rename(open.tokens(), &open.text, offset, &params.new_name).map_err(refused)?;
    let edits = spans
        .into_iter()
        .map(|span| TextEdit::new(index.range(span), params.new_name.clone()))
        .collect();
    let changes = std::collections::HashMap::from([(uri.clone(), edits)]);
    Ok(lsp_types::WorkspaceEdit::new(changes))
}

fn semantic_tokens(
    open: &Open,
    _: &Uri,
    _: lsp_types::SemanticTokensParams,
) -> lsp_types::SemanticTokens {
    let index = LineIndex::new(&open.text);
    lsp_types::SemanticTokens {
        result_id: None,
        data: names::semantic_tokens(open.tokens(), &index),
    }
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

/// After Enter: the line just ended gets the indent `flowc fmt` gives it
/// (an `end` after call outcomes goes back two levels, which editors'
/// one-level indentation rules cannot say). Nothing while the file does
/// not parse.
fn on_type_formatting(
    open: &Open,
    _: &Uri,
    params: lsp_types::DocumentOnTypeFormattingParams,
) -> Vec<TextEdit> {
    let Some(line) = params.text_document_position.position.line.checked_sub(1) else {
        return Vec::new();
    };
    let Ok(formatted) = crate::format::format_source(&open.text) else {
        return Vec::new();
    };
    let indent = |text: &str| text.len() - text.trim_start_matches(' ').len();
    // The formatter keeps every non-blank line in order: find this one.
    let filled = |text: &str| text.lines().filter(|line| !line.trim().is_empty()).count();
    let Some(now) = open.text.lines().nth(line as usize) else {
        return Vec::new();
    };
    let before: String = open
        .text
        .lines()
        .take(line as usize)
        .collect::<Vec<_>>()
        .join("\n");
    let Some(wanted) = formatted
        .lines()
        .filter(|line| !line.trim().is_empty())
        .nth(filled(&before))
    else {
        return Vec::new();
    };
    let same = now.split_whitespace().eq(wanted.split_whitespace());
    if now.trim().is_empty() || !same || indent(now) == indent(wanted) {
        return Vec::new();
    }
    let range = lsp_types::Range::new(
        lsp_types::Position::new(line, 0),
        lsp_types::Position::new(line, indent(now) as u32),
    );
    vec![TextEdit::new(range, " ".repeat(indent(wanted)))]
}

#[allow(deprecated)] // `deprecated` is a required field of the type.
fn document_symbol(symbol: &Symbol, index: &LineIndex<'_>) -> DocumentSymbol {
    let children = (!symbol.children.is_empty()).then(|| {
        symbol
            .children
            .iter()
            .map(|child| document_symbol(child, index))
            .collect()
    });
    DocumentSymbol {
        name: symbol.name.clone(),
        detail: symbol.detail.clone(),
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
        children,
    }
}
