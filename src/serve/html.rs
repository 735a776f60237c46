//! The service's few HTML pages (the unsubscribe confirmation), from the
//! templates in `templates/`, with every value escaped for where it lands.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

const PAGE: &str = include_str!("templates/page.html");

/// Escapes text for HTML or XML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// A page titled `title` (text) around `body` (HTML the caller escaped).
pub fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = PAGE
        .replace("{{title}}", &escape(title))
        .replace("{{body}}", body);
    (status, Html(html)).into_response()
}
