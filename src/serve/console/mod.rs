//! The operator console under `/console`: server-rendered pages from the
//! templates in `templates/console/`, over what [`crate::runtime::console`]
//! reads and does. Signing in takes an API token (the same tokens as the
//! API) and keeps it in an HttpOnly, SameSite=Strict cookie; every page
//! checks it, and every form post must come from the console's own origin.
//! Pages allow no script but their own (a nonce per page).

mod pages;

use std::sync::Arc;

use axum::extract::{Request, State as Shared};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine;
use serde::Serialize;

use super::auth::Caller;
use super::State;
use crate::runtime::tokens;

/// The cookie that carries the signed-in operator's token.
const COOKIE: &str = "flowc_session";
/// How long a sign-in lasts, in seconds (12 hours).
const SESSION: u32 = 12 * 3600;

/// The console's routes, all under `/console`.
pub fn router(state: Arc<State>) -> Router<Arc<State>> {
    let signed_in = Router::new()
        .route(
            "/console",
            get(|| async { Redirect::to("/console/workflows") }),
        )
        .route("/console/workflows", get(pages::workflows))
        .route("/console/workflows/{name}", get(pages::workflow))
        .route("/console/leads", get(pages::leads))
        .route("/console/leads/{id}", get(pages::lead))
        .route("/console/enrollments/{id}/{action}", post(pages::act))
        .route("/console/activity", get(pages::activity))
        .route("/console/logout", post(logout))
        .route_layer(axum::middleware::from_fn_with_state(state, signed_in));
    Router::new()
        .route("/console/login", get(login_page).post(login))
        .merge(signed_in)
        .route_layer(axum::middleware::from_fn(same_origin))
}

/// A page: the template `name` with `context`, the operator and a script
/// nonce, sent with a Content-Security-Policy that allows only that script.
fn page(status: StatusCode, name: &'static str, context: impl Serialize) -> Response {
    let mut nonce = [0u8; 16];
    if getrandom::getrandom(&mut nonce).is_err() {
        return (StatusCode::INTERNAL_SERVER_ERROR, "no random numbers").into_response();
    }
    let nonce = base64::engine::general_purpose::STANDARD.encode(nonce);
    let context =
        minijinja::context! { nonce => nonce, ..minijinja::Value::from_serialize(&context) };
    match crate::templates::render(name, context) {
        Ok(html) => {
            let policy = format!(
                "default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-{nonce}'; \
                 img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
            );
            let mut response = (status, Html(html)).into_response();
            let headers = response.headers_mut();
            if let Ok(policy) = HeaderValue::from_str(&policy) {
                headers.insert(header::CONTENT_SECURITY_POLICY, policy);
            }
            headers.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
    }
}

/// A page that says what went wrong.
fn problem(status: StatusCode, operator: Option<&str>, message: impl Into<String>) -> Response {
    let message = message.into();
    page(
        status,
        "console/problem.html",
        minijinja::context! { operator, problem => message },
    )
}

/// The token in the request's session cookie, if any.
fn session(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == COOKIE).then(|| value.to_owned())
        })
}

/// Lets signed-in operators through, with their name on the request; the
/// others go to the sign-in page (or get 401 for a form post).
async fn signed_in(
    Shared(state): Shared<Arc<State>>,
    mut request: Request,
    next: Next,
) -> Response {
    let name = match session(request.headers()) {
        Some(secret) => state
            .db
            .call(move |live| tokens::authenticate(&live.store, &secret))
            .await
            .ok()
            .and_then(Result::ok)
            .flatten(),
        None => None,
    };
    match name {
        Some(name) => {
            request.extensions_mut().insert(Caller(name.clone()));
            let mut response = next.run(request).await;
            response.extensions_mut().insert(Caller(name));
            response
        }
        None if request.method() == Method::GET => {
            let wanted = request
                .uri()
                .path_and_query()
                .map_or("/console", |path| path.as_str());
            let next = serde_urlencoded::to_string([("next", wanted)]).unwrap_or_default();
            Redirect::to(&format!("/console/login?{next}")).into_response()
        }
        None => problem(
            StatusCode::UNAUTHORIZED,
            None,
            "Sign in again: your session has ended.",
        ),
    }
}

/// Refuses a form post whose `Origin` is another site's (the cookie is
/// SameSite=Strict as well).
async fn same_origin(request: Request, next: Next) -> Response {
    if request.method() == Method::POST {
        let headers = request.headers();
        let host = headers
            .get(header::HOST)
            .and_then(|value| value.to_str().ok());
        let origin = headers
            .get(header::ORIGIN)
            .and_then(|value| value.to_str().ok());
        if let (Some(origin), Some(host)) = (origin, host) {
            let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
            if origin_host != host {
                return problem(
                    StatusCode::FORBIDDEN,
                    None,
                    "This form came from another site.",
                );
            }
        }
    }
    next.run(request).await
}

/// Where to go after signing in: a console page, never another site.
fn after_login(next: Option<&str>) -> &str {
    match next {
        Some(next) if next.starts_with("/console") && !next.starts_with("//") => next,
        _ => "/console/workflows",
    }
}

#[derive(serde::Deserialize)]
struct LoginQuery {
    next: Option<String>,
}

async fn login_page(axum::extract::Query(query): axum::extract::Query<LoginQuery>) -> Response {
    let next = after_login(query.next.as_deref()).to_owned();
    page(
        StatusCode::OK,
        "console/login.html",
        minijinja::context! { next },
    )
}

#[derive(serde::Deserialize)]
struct LoginForm {
    token: String,
    next: Option<String>,
}

/// Checks the token; sets the session cookie and goes on, or says why not.
async fn login(
    Shared(state): Shared<Arc<State>>,
    axum::Form(form): axum::Form<LoginForm>,
) -> Response {
    let next = after_login(form.next.as_deref()).to_owned();
    let secret = form.token.trim().to_owned();
    let cookie_value = secret.clone();
    let name = state
        .db
        .call(move |live| tokens::authenticate(&live.store, &secret))
        .await;
    match name {
        Ok(Ok(Some(name))) => {
            let mut response = Redirect::to(&next).into_response();
            let cookie = format!(
                "{COOKIE}={cookie_value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={SESSION}"
            );
            if let Ok(cookie) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, cookie);
            }
            response.extensions_mut().insert(Caller(name));
            response
        }
        Ok(Ok(None)) => page(
            StatusCode::UNAUTHORIZED,
            "console/login.html",
            minijinja::context! { next, problem => "That token is not valid (unknown or revoked)." },
        ),
        _ => problem(
            StatusCode::SERVICE_UNAVAILABLE,
            None,
            "The database did not answer; try again.",
        ),
    }
}

/// Ends the session.
async fn logout() -> Response {
    let mut response = Redirect::to("/console/login").into_response();
    let cookie = format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    if let Ok(cookie) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}
