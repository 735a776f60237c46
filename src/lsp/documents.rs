//! The documents the client has open, each parsed at most once per
//! version, and the `flowc.toml` files they are checked against, each read
//! again only when it changes.

use std::cell::OnceCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use lsp_types::Uri;

use crate::ast::SourceFile;
use crate::check::Target;
use crate::config::{Config, ConfigError, InvalidConfig};
use crate::diagnostic::Diagnostic;
use crate::syntax::tokens::Token;

use super::analysis::Document;

/// An open document: its text and, once asked for, its tree and tokens.
pub struct Open {
    /// The text as the client last sent it.
    pub text: String,
    file: OnceCell<SourceFile>,
    tokens: OnceCell<Vec<Token>>,
}

impl Open {
    fn new(text: String) -> Self {
        Open {
            text,
            file: OnceCell::new(),
            tokens: OnceCell::new(),
        }
    }

    /// The document's tokens, read on first use and kept until the next
    /// change.
    pub fn tokens(&self) -> &[Token] {
        self.tokens
            .get_or_init(|| crate::syntax::tokens::tokens(&self.text))
    }

    /// The document, parsed on first use and kept until the next change.
    pub fn document(&self) -> Document<'_> {
        let file = self
            .file
            .get_or_init(|| crate::syntax::parse(&self.text).file);
        Document::new(&self.text, file)
    }
}

/// A `flowc.toml` as last read: valid, or why not (with its text, for
/// positions in it).
#[derive(Clone)]
enum Read {
    Valid(Box<Config>),
    Invalid { text: String, error: InvalidConfig },
    Unreadable(String),
}

/// What a document is checked against when its `flowc.toml` is invalid.
pub struct BadConfig {
    /// The file.
    pub path: PathBuf,
    /// Its text, for the position of the error.
    pub text: String,
    /// What is wrong, with where.
    pub error: Option<InvalidConfig>,
    /// The sentence for a file that could not be read.
    pub reason: String,
}

/// Open documents and configurations.
#[derive(Default)]
pub struct Documents {
    open: HashMap<Uri, Open>,
    configs: HashMap<PathBuf, (SystemTime, Read)>,
}

impl Documents {
    /// Opens or replaces a document.
    pub fn set(&mut self, uri: Uri, text: String) {
        self.open.insert(uri, Open::new(text));
    }

    /// Forgets a closed document.
    pub fn close(&mut self, uri: &Uri) {
        self.open.remove(uri);
    }

    /// An open document.
    pub fn get(&self, uri: &Uri) -> Option<&Open> {
        self.open.get(uri)
    }

    /// Checks a document as `flowc check` would, keeping the tree it
    /// parsed; also says when its `flowc.toml` could not be used.
    pub fn check(&mut self, uri: &Uri) -> Option<(Vec<Diagnostic>, Option<BadConfig>)> {
        let path = file_path(uri);
        let dir = path.as_deref().and_then(Path::parent);
        let config = dir.and_then(|dir| self.config(dir));
        let open = self.open.get(uri)?;
        let (valid, bad) = match config {
            Some((_, Read::Valid(config))) => (Some(*config), None),
            Some((path, Read::Invalid { text, error })) => {
                let reason = error.message.clone();
                let bad = BadConfig {
                    path,
                    text,
                    error: Some(error),
                    reason,
                };
                (None, Some(bad))
            }
            Some((path, Read::Unreadable(reason))) => {
                let text = String::new();
                let bad = BadConfig {
                    path,
                    text,
                    error: None,
                    reason,
                };
                (None, Some(bad))
            }
            None => (None, None),
        };
        let parsed = crate::syntax::parse(&open.text);
        let target = valid.as_ref().map(Target::config);
        let (file, diagnostics) = crate::check::check_parsed(parsed, &open.text, dir, target);
        // The tree checked is the tree of this version: keep it.
        let _ = open.file.set(file);
        Some((diagnostics, bad))
    }

    /// The nearest `flowc.toml` above `dir`, read again only when it
    /// changed since last time.
    fn config(&mut self, dir: &Path) -> Option<(PathBuf, Read)> {
        let path = Config::nearest(dir)?;
        let changed = std::fs::metadata(&path)
            .and_then(|meta| meta.modified())
            .ok()?;
        if let Some((seen, read)) = self.configs.get(&path) {
            if *seen == changed {
                return Some((path, read.clone()));
            }
        }
        let read = match Config::read(&path) {
            Ok(config) => Read::Valid(Box::new(config)),
            Err(ConfigError::Invalid { text, error, .. }) => Read::Invalid { text, error },
            Err(error) => Read::Unreadable(error.to_string()),
        };
        self.configs.insert(path.clone(), (changed, read.clone()));
        Some((path, read))
    }
}

/// The local path of a `file:` URI, if it is one.
pub fn file_path(uri: &Uri) -> Option<PathBuf> {
    reqwest::Url::parse(uri.as_str()).ok()?.to_file_path().ok()
}

/// The `file:` URI of a local path.
pub fn file_uri(path: &Path) -> Option<Uri> {
    let url = reqwest::Url::from_file_path(path).ok()?;
    url.as_str().parse().ok()
}
