//! The service's few HTML pages (the unsubscribe confirmation), from the
//! templates in `templates/` (see [`crate::templates`]), with every value
//! escaped for where it lands.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

pub use crate::markup::escape;

/// A page titled `title` (text) around `body` (HTML the caller escaped).
pub fn page(status: StatusCode, title: &str, body: &str) -> Response {
    match crate::templates::render("page.html", minijinja::context! { title, body }) {
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
    }
}
