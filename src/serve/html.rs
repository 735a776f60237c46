//! The service's few HTML pages (the unsubscribe confirmation), from the
//! templates in `templates/`, with every value escaped for where it lands.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

const PAGE: &str = include_str!("templates/page.html");

pub use crate::markup::escape;

/// A page titled `title` (text) around `body` (HTML the caller escaped).
pub fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = PAGE
        .replace("{{title}}", &escape(title))
        .replace("{{body}}", body);
    (status, Html(html)).into_response()
}
