//! `flowc serve`: the HTTP API over the live runtime, and the runner, in
//! one process. The HTTP layer is thin: handlers read and check requests,
//! hand the work to [`database::Database`] (threads that each hold a
//! connection and a [`Live`]), and write what the runtime answered. The
//! runner works on its own thread as `flowc run` does. SIGTERM or SIGINT
//! stop taking connections, finish the requests in flight and the
//! runner's batch, then return.

mod api;
mod auth;
mod console;
mod database;
mod email;
mod error;
mod html;
mod log;
mod metrics;
mod twilio;
mod webhooks;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::Router;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use std::thread::JoinHandle;

use crate::runtime::live::lease::Runner;
use crate::runtime::live::Carrier;
use crate::store::{Location, StoreError};

pub use database::Database;
pub use error::ApiError;
pub use webhooks::Webhooks;

/// How `flowc serve` runs.
#[derive(Clone, Debug)]
pub struct Options {
    /// The address to listen on.
    pub listen: SocketAddr,
    /// The database.
    pub location: Location,
    /// The largest request body taken, in bytes; larger ones get 413.
    pub body_limit: usize,
    /// How long the runner's claims last unless renewed.
    pub lease: Duration,
    /// What the webhooks check signatures with and answer.
    pub webhooks: Webhooks,
}

/// Why the service could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address could not be listened on.
    #[error("cannot listen on {address}: {reason}")]
    Listen {
        /// The address.
        address: SocketAddr,
        /// Why.
        reason: String,
    },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The async runtime could not start.
    #[error("cannot start the service: {0}")]
    Start(String),
}

/// What the service shares between requests.
pub(crate) struct State {
    pub db: Database,
    pub metrics: metrics::Requests,
    pub webhooks: Webhooks,
}

/// Serves the API on `options.listen` while a runner carries effects by
/// `carrier`, until SIGTERM or SIGINT; gives how many steps of work the
/// runner did.
pub fn serve(options: &Options, carrier: Carrier) -> Result<usize, ServeError> {
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|error| ServeError::Start(error.to_string()))?;
    let listener = std::net::TcpListener::bind(options.listen)
        .and_then(|listener| listener.set_nonblocking(true).map(|()| listener))
        .map_err(|error| ServeError::Listen {
            address: options.listen,
            reason: error.to_string(),
        })?;
    let address = listener.local_addr().unwrap_or(options.listen);
    let state = Arc::new(State {
        db: Database::open(&options.location)?,
        metrics: metrics::Requests::default(),
        webhooks: options.webhooks.clone(),
    });
    let stop = Arc::new(AtomicBool::new(false));
    let working = work(options, carrier, Arc::clone(&stop))?;
    log::info(&format!("listening on http://{address}"));
    let served = tokio.block_on(async {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        axum::serve(listener, router(state, options.body_limit))
            .with_graceful_shutdown(stopped())
            .await
    });
    stop.store(true, Ordering::SeqCst);
    let done = working.join().unwrap_or(Ok(0));
    served.map_err(|error| ServeError::Start(error.to_string()))?;
    Ok(done?)
}

/// Starts the runner on a thread of its own, once its connection is open.
fn work(
    options: &Options,
    carrier: Carrier,
    stop: Arc<AtomicBool>,
) -> Result<JoinHandle<Result<usize, StoreError>>, StoreError> {
    let (location, lease) = (options.location.clone(), options.lease);
    let (opened, open) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let mut runner = database::open(&location).inspect_err(|error| {
            let _ = opened.send(Err(error.to_string()));
        })?;
        runner.runner = Runner::new(lease);
        let _ = opened.send(Ok(()));
        runner.work(&carrier, &stop, false)
    });
    match open.recv() {
        Ok(Ok(())) => Ok(thread),
        _ => Err(thread
            .join()
            .unwrap_or_else(|_| Err(StoreError::Invalid("the runner died".into())))
            .err()
            .unwrap_or_else(|| StoreError::Invalid("the runner stopped".into()))),
    }
}

/// The API's OpenAPI document: its paths come from the handlers'
/// declarations as the routes are added (see [`router`]).
#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "flowc", description = "The lead and event API of `flowc serve`, its provider webhooks and unsubscribe links."),
    modifiers(&BearerToken),
    tags(
        (name = "leads", description = "Leads: upsert, read"),
        (name = "events", description = "Events that happen to leads"),
        (name = "webhooks", description = "Signed by providers and links, not by API tokens"),
        (name = "service", description = "Health and metrics"),
    )
)]
struct ApiDoc;

/// The `token` security scheme: `Authorization: Bearer TOKEN`.
struct BearerToken;

impl utoipa::Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some("A token from `flowc token create NAME`"))
            .build();
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme("token", SecurityScheme::Http(scheme));
    }
}

/// The routes, each with its handler's OpenAPI declaration, and
/// `/openapi.json` serving the document they make.
fn router(state: Arc<State>, body_limit: usize) -> Router {
    let (router, openapi) = OpenApiRouter::with_openapi(<ApiDoc as utoipa::OpenApi>::openapi())
        .routes(routes!(metrics::render))
        .routes(routes!(api::leads))
        .routes(routes!(api::lead))
        .routes(routes!(api::events))
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            auth::required,
        ))
        .routes(routes!(api::health))
        .routes(routes!(webhooks::twilio_message))
        .routes(routes!(webhooks::twilio_status))
        .routes(routes!(webhooks::twilio_call))
        .routes(routes!(webhooks::email_inbound))
        .routes(routes!(webhooks::email_events))
        .routes(routes!(webhooks::unsubscribe_page, webhooks::unsubscribe))
        .split_for_parts();
    let document = openapi.to_pretty_json().unwrap_or_default();
    router
        .route(
            "/openapi.json",
            get(move || async move {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    document,
                )
            }),
        )
        .merge(console::router(Arc::clone(&state)))
        .fallback(api::not_found)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            log::requests,
        ))
        .with_state(state)
}

/// Resolves at the first SIGTERM or SIGINT.
async fn stopped() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = terminate => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    log::info("stopping: finishing the requests in flight and the runner's batch");
}
