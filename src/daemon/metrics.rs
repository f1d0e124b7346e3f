//! The daemon's optional Prometheus endpoint (`[daemon] metrics_listen`,
//! loopback unless configured otherwise): `/metrics` in the text format and
//! `/healthz`.
//!
//! Every figure is read from SQLite at scrape time (job runs, API call
//! counters, alerts, the outbox), so the endpoint shows exactly what
//! `flywheel status` shows, survives restarts, and adds no state to keep
//! in step.

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::sync::watch;

use crate::store;

/// Serves until `stop` turns true.
pub async fn serve(addr: SocketAddr, database: PathBuf, mut stop: watch::Receiver<bool>) {
    let app = axum::Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .with_state(database);
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(%addr, error = %e, "cannot listen for /metrics");
            return;
        }
    };
    tracing::info!(%addr, "serving /metrics and /healthz");
    let _ = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = stop.changed().await;
        })
        .await;
}

async fn healthz(State(db): State<PathBuf>) -> impl IntoResponse {
    match tokio::task::spawn_blocking(move || {
        store::open(&db).and_then(|c| Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?))
    })
    .await
    {
        Ok(Ok(_)) => (StatusCode::OK, "ok\n"),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n"),
    }
}

async fn metrics(State(db): State<PathBuf>) -> impl IntoResponse {
    let text = tokio::task::spawn_blocking(move || -> Result<String, store::StoreError> {
        let conn = store::open(&db)?;
        store::metrics::render(&conn)
    })
    .await;
    match text {
        Ok(Ok(t)) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            t,
        ),
        _ => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "cannot read the database\n".to_string(),
        ),
    }
}
