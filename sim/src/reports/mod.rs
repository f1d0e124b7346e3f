//! SP-API Reports 2021-06-30: `createReport`, `getReport`, `getReports`,
//! `getReportDocument` and the pre-signed document download URL.
//!
//! PLACEHOLDER: the routes and [`ReportStore`] are filled in by the reports
//! work. Follow the pattern of [`crate::spapi`] (route → [`crate::auth::SpCaller`]
//! → [`crate::ratelimit::limit`] → world query → model-named structs → rate
//! header). Serve document downloads under `/download/` (the fault layer treats
//! that prefix as S3: no throttling or 5xx there) and insert
//! [`crate::faults::Handled`] into responses whose body already applied the
//! `truncate` fault itself (gzip streams).

use axum::Router;

use crate::server::AppState;

/// Report requests and documents of one running sim (kept in
/// `AppState::reports`). Give it interior mutability (a `Mutex`) as fields
/// are added: handlers only get `&ReportStore`.
#[derive(Debug, Default)]
pub struct ReportStore {}

/// The Reports API routes.
pub fn routes() -> Router<AppState> {
    Router::new()
}
