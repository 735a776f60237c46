//! The documents the client has open, each parsed at most once per
//! version, and the `flowc.toml` files they are checked against, each read
//! again only when it changes.

use std::cell::{Cell, OnceCell};
use std::collections::HashMap;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::time::SystemTime;

use lsp_types::Uri;

use crate::check::Target;
use crate::config::{Config, ConfigError, InvalidConfig};
use crate::diagnostic::Diagnostic;
use crate::syntax::outline::Symbol;
use crate::syntax::tokens::Token;
use crate::syntax::{Parsed, Reading, Readings, Wanted};

use super::analysis::Document;

/// A value worked out on a thread of its own, started when the client
/// goes quiet, and waited for (or worked out here) when first needed.
struct Background<T> {
    value: OnceCell<T>,
    /// Where the thread at work sends the value.
    job: Cell<Option<Receiver<T>>>,
}

impl<T: Send + 'static> Background<T> {
    fn new() -> Self {
        Background {
            value: OnceCell::new(),
            job: Cell::new(None),
        }
    }

    /// Whether the value is worked out or under way.
    fn started(&self) -> bool {
        let job = self.job.take();
        let started = job.is_some() || self.value.get().is_some();
        self.job.set(job);
        started
    }

    /// Where a thread about to work the value out sends it.
    fn promise(&self) -> Sender<T> {
        let (sender, receiver) = mpsc::channel();
        self.job.set(Some(receiver));
        sender
    }

    /// Sets the value, worked out here.
    fn set(&self, value: T) {
        let _ = self.value.set(value);
    }

    /// The value, worked out here or by the thread at work on it (waited
    /// for); `None` when none was started or its thread stopped.
    fn done(mut self) -> Option<T> {
        let sent = || self.job.get_mut().take()?.recv().ok();
        self.value.take().or_else(sent)
    }

    /// The value: the started work's, or `work`'s when none was started
    /// (or its thread ended without sending it).
    fn get(&self, work: impl FnOnce() -> T) -> &T {
        self.value.get_or_init(|| match self.job.take() {
            Some(job) => job.recv().unwrap_or_else(|_| work()),
            None => work(),
        })
    }
}

/// Starts `work` on a thread of its own. When no thread can be made, or
/// the work fails, what it promised is worked out where it is needed.
fn spawn(work: impl FnOnce() + Send + 'static) {
    let _ = std::thread::Builder::new().spawn(work);
}

/// An open document: its text and, once asked for, its parse.
pub struct Open {
    /// The text as the client last sent it.
    pub text: Arc<str>,
    tree: Background<Parsed>,
    tokens: Background<Vec<Token>>,
    outline: Background<Vec<Symbol>>,
    /// Lets a reading started for a request go on past what the request
    /// waits for; dropped with the document, it stops the reading.
    resume: Cell<Option<Sender<()>>>,
}

impl Open {
    fn new(text: String) -> Self {
        Open {
            text: text.into(),
            tree: Background::new(),
            tokens: Background::new(),
            outline: Background::new(),
            resume: Cell::new(None),
        }
    }

    /// This version's reading, when it can be read from: done (waited for
    /// when under way; a reading paused after a request is stopped). What
    /// else is kept is freed on a thread of its own, not in the way of the
    /// next request.
    fn into_readings(self) -> Option<Readings> {
        let Open {
            tree,
            tokens,
            outline,
            resume,
            ..
        } = self;
        drop(resume);
        match (tree.done(), tokens.done(), outline.done()) {
            (Some(parsed), Some(tokens), Some(outline)) => Some(Readings {
                parsed,
                tokens,
                outline,
            }),
            unfinished => {
                spawn(move || drop(unfinished));
                None
            }
        }
    }

    /// This version, read off `old`, the reading of `old_text`, when the
    /// edit between them allows; else `old` is freed on a thread of its own
    /// (before the parse this version then needs, which takes the memory).
    fn read_from(&self, old_text: &str, mut old: Readings) {
        if crate::syntax::reread(&mut old, old_text, &self.text) {
            self.tree.set(old.parsed);
            self.tokens.set(old.tokens);
            self.outline.set(old.outline);
        } else {
            spawn(move || drop(old));
        }
    }

    /// Called when the client is quiet: starts reading the document on a
    /// thread of its own (the tree first, for diagnostics), so that the
    /// next request finds the work done or under way; or lets a reading
    /// started for a request go on.
    pub fn start(&self) {
        self.start_reading(Wanted::Tree, false);
    }

    /// Reads the document, unless under way, off one parse: what is
    /// needed now (`first`) is handed over first. With `pause`, the rest
    /// waits until [`Open::start`] (the answer is out: the reading does not
    /// compete with writing it) or another reading is needed. A reading
    /// under way is let go on.
    fn start_reading(&self, first: Wanted, pause: bool) {
        if self.tree.started() {
            if let Some(resume) = self.resume.take() {
                let _ = resume.send(());
            }
            return;
        }
        let text = Arc::clone(&self.text);
        let (tree, tokens, outline) = (
            self.tree.promise(),
            self.tokens.promise(),
            self.outline.promise(),
        );
        let paused = pause.then(|| {
            let (resume, paused) = mpsc::channel();
            self.resume.set(Some(resume));
            paused
        });
        spawn(move || {
            // A long file is read in two halves at once, all of it by the
            // time one half would have given what is needed first.
            if let Some(readings) = crate::syntax::halves(&text) {
                drop(tree.send(readings.parsed));
                drop(tokens.send(readings.tokens));
                drop(outline.send(readings.outline));
                return;
            }
            let mut paused = paused;
            crate::syntax::read_each(&text, first, |reading| {
                match reading {
                    Reading::Tree(read) => drop(tree.send(read)),
                    Reading::Tokens(read) => drop(tokens.send(read)),
                    Reading::Outline(read) => drop(outline.send(read)),
                }
                match paused.take().map(|paused| paused.recv()) {
                    // The document was replaced or closed: nothing more
                    // of this version is needed.
                    Some(Err(_)) => ControlFlow::Break(()),
                    Some(Ok(())) | None => ControlFlow::Continue(()),
                }
            });
        });
    }

    /// The tree and syntax errors, kept until the next change.
    fn parsed(&self) -> &Parsed {
        self.start_reading(Wanted::Tree, true);
        self.tree.get(|| crate::syntax::parse(&self.text))
    }

    /// The document's tokens, kept until the next change.
    pub fn tokens(&self) -> &[Token] {
        self.start_reading(Wanted::Tokens, true);
        self.tokens
            .get(|| crate::syntax::tokens::tokens(&self.text))
    }

    /// The document's outline, kept until the next change.
    pub fn outline(&self) -> &[Symbol] {
        self.start_reading(Wanted::Outline, true);
        self.outline.get(|| crate::syntax::outline(&self.text))
    }

    /// The document and its tree.
    pub fn document(&self) -> Document<'_> {
        Document::new(&self.text, &self.parsed().file)
    }
}

/// What checking a document found.
pub struct Checked<'a> {
    /// The document's text.
    pub text: &'a str,
    /// Its syntax errors, from the kept parse.
    pub syntax: Vec<&'a Diagnostic>,
    /// What checking found that the syntax errors do not explain.
    pub semantic: Vec<Diagnostic>,
    /// The `flowc.toml` that could not be used, if any.
    pub bad_config: Option<BadConfig>,
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
    /// Opens or replaces a document. A replaced version's reading is taken
    /// over when the edit allows: the new version is read from it at once
    /// (milliseconds, where a full parse of a long file takes tens).
    pub fn set(&mut self, uri: Uri, text: String) {
        let open = Open::new(text);
        if let Some(replaced) = self.open.remove(&uri) {
            let old_text = Arc::clone(&replaced.text);
            if let Some(old) = replaced.into_readings() {
                open.read_from(&old_text, old);
            }
        }
        self.open.insert(uri, open);
    }

    /// Starts parsing the documents in `uris` in the background.
    pub fn start<'a>(&self, uris: impl IntoIterator<Item = &'a Uri>) {
        for open in uris.into_iter().filter_map(|uri| self.open.get(uri)) {
            open.start();
        }
    }

    /// Forgets a closed document.
    pub fn close(&mut self, uri: &Uri) {
        self.open.remove(uri);
    }

    /// An open document.
    pub fn get(&self, uri: &Uri) -> Option<&Open> {
        self.open.get(uri)
    }

    /// Checks a document as `flowc check` would, over its kept parse:
    /// its syntax errors, then what checking found that they do not
    /// explain; also says when its `flowc.toml` could not be used.
    pub fn check(&mut self, uri: &Uri) -> Option<Checked<'_>> {
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
        let parsed = open.parsed();
        let target = valid.as_ref().map(Target::config);
        let semantic = crate::check::check_parsed(parsed, &open.text, dir, target);
        Some(Checked {
            text: &open.text,
            syntax: parsed.diagnostics.iter().collect(),
            semantic,
            bad_config: bad,
        })
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
