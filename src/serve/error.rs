//! Errors as the API answers them: an HTTP status and a JSON body
//! `{"error": {"code": "...", "message": "..."}}` whose code is stable.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::store::StoreError;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A stable code for programs.
    pub code: &'static str,
    /// What went wrong, for people.
    pub message: String,
}

impl ApiError {
    /// An error with `status`, `code` and `message`.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    /// The same error, said differently.
    pub fn with_message(self, message: impl Into<String>) -> ApiError {
        ApiError {
            message: message.into(),
            ..self
        }
    }

    /// 400: the request cannot be read.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 503: the service cannot take the request now.
    pub fn unavailable(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }

    /// 500: flowc failed.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

/// A store that is busy or turned a transaction back may take the request
/// again; anything else is flowc's failure.
impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        ApiError::from(&error)
    }
}

impl From<&StoreError> for ApiError {
    fn from(error: &StoreError) -> ApiError {
        match error.is_transient() {
            true => ApiError::unavailable(format!("{error}; try again")),
            false => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "store",
                error.to_string(),
            ),
        }
    }
}

/// An error as the API sends it.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// What went wrong: a stable code and a message.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// For programs: `unauthorized`, `body-too-large`, `malformed-json`,
    /// `invalid`, `unknown-lead`, `bad-data`, `not-found`,
    /// `bad-signature`, `webhook-not-configured`, `unavailable`, `store`,
    /// `internal`.
    pub code: String,
    /// For people.
    pub message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}
