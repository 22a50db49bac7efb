//! The gate's one error type. A handler returns `Result<Response, Error>`;
//! each kind of failure has one answer, and an internal error is logged
//! here, once, and never shown to the client.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Why a request was not answered the usual way.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No live session: the client is sent to the login page.
    #[error("not logged in")]
    LoggedOut,
    /// A form posted from elsewhere, or with a CSRF token that is not its session's.
    #[error("the form's origin or CSRF token does not check out")]
    Forged,
    /// A body larger than any form of the gate.
    #[error("the request body is too large")]
    TooLarge,
    /// A body that did not arrive in time.
    #[error("the request body did not arrive in time")]
    TimedOut,
    /// A body that is not the form expected.
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// Something asked for that is not there (or not for this account).
    #[error("not found")]
    NotFound,
    /// The database, a template or the disk failed.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match self {
            Error::LoggedOut => super::respond::redirect("/login"),
            Error::Forged => (StatusCode::FORBIDDEN, "CSRF check failed").into_response(),
            Error::TooLarge => StatusCode::PAYLOAD_TOO_LARGE.into_response(),
            // The rest of the body is not waited for: the connection closes.
            Error::TimedOut => (
                StatusCode::REQUEST_TIMEOUT,
                [(axum::http::header::CONNECTION, "close")],
            )
                .into_response(),
            Error::BadRequest(what) => (StatusCode::BAD_REQUEST, what).into_response(),
            Error::NotFound => StatusCode::NOT_FOUND.into_response(),
            Error::Internal(err) => {
                tracing::error!("{err:#}");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
            }
        }
    }
}

/// What a handler returns.
pub type Result<T = Response, E = Error> = std::result::Result<T, E>;
