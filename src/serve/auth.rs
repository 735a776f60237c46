//! Bearer tokens: a request names its caller with `Authorization: Bearer
//! TOKEN`, a token made by `flowc token create`; without a valid one it
//! gets 401 before anything is read or written.

use std::sync::Arc;

use axum::extract::{Request, State as Shared};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{ApiError, State};
use crate::runtime::tokens;

/// The caller: the name of the token the request bore, on the response
/// for the request log.
#[derive(Clone, Debug)]
pub struct Caller(pub String);

/// Lets the request through only with a valid token.
pub async fn required(Shared(state): Shared<Arc<State>>, request: Request, next: Next) -> Response {
    match caller(&state, request.headers()).await {
        Ok(caller) => {
            let mut response = next.run(request).await;
            response.extensions_mut().insert(caller);
            response
        }
        Err(error) => error.into_response(),
    }
}

/// The credentials of an `Authorization: Bearer` value; the scheme's
/// name is case-insensitive (RFC 9110, 11.1).
fn bearer(value: &str) -> Option<&str> {
    let (scheme, credentials) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| credentials.trim())
}

/// The token's name, or 401.
async fn caller(state: &State, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let refused = |why: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", why);
    let secret = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(bearer)
        .map(str::to_owned)
        .ok_or_else(|| {
            refused("send an API token: `Authorization: Bearer TOKEN` (`flowc token create NAME` makes one)")
        })?;
    let name = state
        .db
        .call(move |live| tokens::authenticate(&live.store, &secret))
        .await??
        .ok_or_else(|| refused("the API token is not valid (unknown or revoked)"))?;
    Ok(Caller(name))
}
