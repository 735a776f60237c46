//! Names across a workflow: every place a label, field, event, event field
//! or goal is declared or used, for references and rename; and the
//! semantic tokens an editor colours by.

use lsp_types::{SemanticToken, SemanticTokenModifier, SemanticTokenType, SemanticTokensLegend};

use crate::span::{LineIndex, Span};
use crate::syntax::tokens::{Role, Token, TokenKind};

/// The name token at `offset` (or just before it, at the end of a word).
pub fn name_at(tokens: &[Token], offset: usize) -> Option<(Token, Role)> {
    let at = |offset: usize| {
        tokens.iter().find(|token| {
            (token.span.start as usize..=token.span.end as usize).contains(&offset)
                && matches!(token.kind, TokenKind::Name { .. })
        })
    };
    let token = *at(offset)?;
    match token.kind {
        TokenKind::Name { role, .. } => Some((token, role)),
        _ => None,
    }
}

/// Roles whose names can be renamed in the document.
fn renamable(role: Role) -> bool {
    matches!(
        role,
        Role::Label | Role::Field | Role::EventField | Role::Event | Role::Goal
    )
}

/// Every token naming the same thing as `token` in its workflow:
/// same role, same text; declarations included when `declarations`.
pub fn occurrences(
    tokens: &[Token],
    text: &str,
    token: Token,
    role: Role,
    declarations: bool,
) -> Vec<Span> {
    let name = &text[token.span.range()];
    let (start, end) = workflow_bounds(tokens, token.span.start as usize, text.len());
    tokens
        .iter()
        .filter(|other| (start..end).contains(&(other.span.start as usize)))
        .filter(|other| match other.kind {
            TokenKind::Name {
                role: other_role,
                declaration,
            } => other_role == role && (declarations || !declaration),
            _ => false,
        })
        .filter(|other| &text[other.span.range()] == name)
        .map(|other| other.span)
        .collect()
}

/// The byte range of the workflow holding `offset`: from its `workflow`
/// name to the next one's.
fn workflow_bounds(tokens: &[Token], offset: usize, len: usize) -> (usize, usize) {
    let starts: Vec<usize> = tokens
        .iter()
        .filter(|token| {
            token.kind
                == TokenKind::Name {
                    role: Role::Workflow,
                    declaration: true,
                }
        })
        .map(|token| token.span.start as usize)
        .collect();
    let start = starts
        .iter()
        .rev()
        .find(|start| **start <= offset)
        .copied()
        .unwrap_or(0);
    let end = starts
        .iter()
        .find(|start| **start > offset)
        .copied()
        .unwrap_or(len);
    (start, end)
}

/// Why a rename cannot be done.
#[derive(Debug, PartialEq, Eq)]
pub struct Refused(pub String);

/// The name at `offset` if it may be renamed: declared in this document
/// (a standard field or built-in event keeps its name).
pub fn prepare(tokens: &[Token], text: &str, offset: usize) -> Result<Span, Refused> {
    let (token, role) = name_at(tokens, offset)
        .ok_or_else(|| Refused("there is no label, field, event or goal here".into()))?;
    let name = &text[token.span.range()];
    if !renamable(role) {
        return Err(Refused(format!(
            "`{name}` is not a label, field, event or goal"
        )));
    }
    let declared = occurrences(tokens, text, token, role, true).len()
        > occurrences(tokens, text, token, role, false).len();
    if !declared {
        let what = match role {
            Role::Field => "a standard lead field",
            Role::Event => "a built-in event",
            _ => "not declared in this workflow",
        };
        return Err(Refused(format!(
            "`{name}` is {what}: its name cannot change"
        )));
    }
    Ok(token.span)
}

/// The spans to rewrite to rename what is at `offset` to `new_name`.
pub fn rename(
    tokens: &[Token],
    text: &str,
    offset: usize,
    new_name: &str,
) -> Result<Vec<Span>, Refused> {
    prepare(tokens, text, offset)?;
    let (token, role) =
        name_at(tokens, offset).ok_or_else(|| Refused("nothing to rename".into()))?;
    if !is_name(new_name) {
        return Err(Refused(format!(
            "`{new_name}` is not a name: a letter or `_`, then letters, digits, `_` or `-`, and not `and`, `or`, `not`, `is`, `when`, `end` or `else`"
        )));
    }
    let (start, end) = workflow_bounds(tokens, token.span.start as usize, text.len());
    let taken = tokens.iter().any(|other| {
        (start..end).contains(&(other.span.start as usize))
            && matches!(other.kind, TokenKind::Name { role: r, .. } if r == role)
            && &text[other.span.range()] == new_name
    });
    if taken {
        return Err(Refused(format!("this workflow already has a `{new_name}`")));
    }
    Ok(occurrences(tokens, text, token, role, true))
}

/// Whether `word` is a name as the grammar reads one.
fn is_name(word: &str) -> bool {
    const RESERVED: [&str; 7] = ["and", "or", "not", "is", "when", "end", "else"];
    let mut chars = word.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !RESERVED.contains(&word)
}

/// The token types and modifiers, in the order the encoded tokens use.
pub fn legend() -> SemanticTokensLegend {
    SemanticTokensLegend {
        token_types: vec![
            SemanticTokenType::KEYWORD,
            SemanticTokenType::NAMESPACE,
            SemanticTokenType::FUNCTION,
            SemanticTokenType::PROPERTY,
            SemanticTokenType::EVENT,
            SemanticTokenType::ENUM_MEMBER,
            SemanticTokenType::VARIABLE,
            SemanticTokenType::STRING,
            SemanticTokenType::NUMBER,
            SemanticTokenType::OPERATOR,
            SemanticTokenType::MACRO,
            SemanticTokenType::COMMENT,
        ],
        token_modifiers: vec![SemanticTokenModifier::DECLARATION],
    }
}

/// The index of a token's type in [`legend`], and its modifier bits.
fn encode(kind: TokenKind) -> (u32, u32) {
    match kind {
        TokenKind::Keyword => (0, 0),
        TokenKind::Name { role, declaration } => {
            let kind = match role {
                Role::Workflow => 1,
                Role::Label => 2,
                Role::Field | Role::EventField => 3,
                Role::Event => 4,
                Role::Goal | Role::Arm => 5,
                Role::Configured | Role::Env => 6,
            };
            (kind, u32::from(declaration))
        }
        TokenKind::Text => (7, 0),
        TokenKind::Number => (8, 0),
        TokenKind::Operator => (9, 0),
        TokenKind::Filter => (10, 0),
        TokenKind::Comment => (11, 0),
    }
}

/// Tokens in the protocol's relative encoding, one per line of a token
/// that spans several (clients need not support multi-line tokens).
pub fn semantic_tokens(tokens: &[Token], index: &LineIndex<'_>) -> Vec<SemanticToken> {
    let mut out = Vec::with_capacity(tokens.len());
    let (mut last_line, mut last_start) = (0, 0);
    for token in tokens {
        let (kind, modifiers) = encode(token.kind);
        for span in per_line(token.span, index) {
            let start = index.position(span.start as usize);
            let end = index.position(span.end as usize);
            if end.character <= start.character {
                continue;
            }
            let delta_line = start.line - last_line;
            let delta_start = if delta_line == 0 {
                start.character - last_start
            } else {
                start.character
            };
            out.push(SemanticToken {
                delta_line,
                delta_start,
                length: end.character - start.character,
                token_type: kind,
                token_modifiers_bitset: modifiers,
            });
            (last_line, last_start) = (start.line, start.character);
        }
    }
    out
}

/// A span cut at line ends.
fn per_line(span: Span, index: &LineIndex<'_>) -> Vec<Span> {
    let text = index.text();
    let mut pieces = Vec::new();
    let mut start = span.start as usize;
    let end = span.end as usize;
    while start < end {
        let stop = text[start..end].find('\n').map_or(end, |at| start + at);
        let trimmed = text[start..stop].trim_end_matches('\r');
        pieces.push(Span::new(start, start + trimmed.len()));
        start = stop + 1;
    }
    pieces
}
