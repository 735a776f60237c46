//! Text that names secrets without holding them. An http step's
//! `{{ env.NAME }}` stays a reference in the rendered message, so the
//! secret is never written to the outbox, a timeline or the database: the
//! provider reads the variable at the moment of delivery. A lead value is
//! always plain text here, so lead data can never name a variable.

use serde::{Deserialize, Serialize};

use super::eval::{push_escaped, Escape};

/// Rendered text with environment variables left as references.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "Stored", into = "Stored")]
pub struct Sealed {
    /// How a variable's value is escaped where it lands.
    escape: Escape,
    parts: Vec<Part>,
}

/// A run of rendered text, or a variable to read at delivery.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Part {
    /// Text as rendered (lead values already escaped).
    Text(String),
    /// The name of an environment variable.
    Env(String),
}

/// A variable that must be set for a delivery and is not.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("the environment variable {0} is not set")]
pub struct MissingSecret(pub String);

impl Sealed {
    /// Text with no variables in it.
    pub fn plain(text: impl Into<String>) -> Self {
        Sealed {
            escape: Escape::Plain,
            parts: vec![Part::Text(text.into())],
        }
    }

    /// Text made of `parts`; variables are escaped by `escape`.
    pub fn new(escape: Escape, parts: Vec<Part>) -> Self {
        Sealed { escape, parts }
    }

    /// The names of the variables it reads.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|part| match part {
            Part::Env(name) => Some(name.as_str()),
            Part::Text(_) => None,
        })
    }

    /// The text as timelines show it: variables as `{{ env.NAME }}`.
    pub fn shown(&self) -> String {
        self.parts
            .iter()
            .map(|part| match part {
                Part::Text(text) => text.clone(),
                Part::Env(name) => format!("{{{{ env.{name} }}}}"),
            })
            .collect()
    }

    /// The text to send, each variable read now from the environment and
    /// escaped for where it lands; an unset or empty variable is an error.
    pub fn reveal(&self) -> Result<String, MissingSecret> {
        self.reveal_with(|name| std::env::var(name).ok())
    }

    /// [`Sealed::reveal`] with variables looked up by `lookup`.
    pub fn reveal_with(
        &self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<String, MissingSecret> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Env(name) => {
                    let value = lookup(name)
                        .filter(|value| !value.is_empty())
                        .ok_or_else(|| MissingSecret(name.clone()))?;
                    push_escaped(&value, self.escape, &mut out);
                }
            }
        }
        Ok(out)
    }
}

/// How sealed text is stored: a plain string when it reads no variable
/// (as outbox rows written before secrets were sealed are).
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Stored {
    Plain(String),
    Parts { escape: Escape, parts: Vec<Part> },
}

impl From<Stored> for Sealed {
    fn from(stored: Stored) -> Self {
        match stored {
            Stored::Plain(text) => Sealed::plain(text),
            Stored::Parts { escape, parts } => Sealed { escape, parts },
        }
    }
}

impl From<Sealed> for Stored {
    fn from(sealed: Sealed) -> Self {
        match sealed.parts.as_slice() {
            [] => Stored::Plain(String::new()),
            [Part::Text(text)] => Stored::Plain(text.clone()),
            _ => Stored::Parts {
                escape: sealed.escape,
                parts: sealed.parts,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Sealed {
        Sealed::new(
            Escape::Url,
            vec![
                Part::Text("https://x.example/?key=".into()),
                Part::Env("KEY".into()),
            ],
        )
    }

    #[test]
    fn variables_are_read_and_escaped_only_when_revealed() {
        let sealed = header();
        assert_eq!(sealed.shown(), "https://x.example/?key={{ env.KEY }}");
        let revealed = sealed.reveal_with(|_| Some("a b&c".into()));
        assert_eq!(revealed.as_deref(), Ok("https://x.example/?key=a%20b%26c"));
        assert_eq!(
            sealed.reveal_with(|_| None),
            Err(MissingSecret("KEY".into()))
        );
        assert_eq!(
            sealed.reveal_with(|_| Some(String::new())),
            Err(MissingSecret("KEY".into()))
        );
    }

    #[test]
    fn stored_text_never_holds_the_value_and_reads_back() {
        let json = serde_json::to_string(&header()).expect("serialises");
        assert!(!json.contains("secret"));
        assert_eq!(
            serde_json::from_str::<Sealed>(&json).expect("reads back"),
            header()
        );
        let plain: Sealed = serde_json::from_str("\"just text\"").expect("a plain string");
        assert_eq!(plain, Sealed::plain("just text"));
        assert_eq!(
            serde_json::to_string(&plain).expect("serialises"),
            "\"just text\""
        );
    }
}
