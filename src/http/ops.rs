//! Liveness, readiness and metrics.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::state::AppState;

pub async fn healthz() -> &'static str {
    "ok"
}

/// Ready when the database answers.
pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.db.ping().await {
        Ok(()) => Json(json!({"status": "ready", "database": state.db.kind()})).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "unavailable", "database": state.db.kind()})))
                .into_response()
        }
    }
}

/// `GET /metrics` on the main listener: there only when metrics are on and have no address
/// of their own.
pub async fn metrics_on_main(state: State<AppState>, headers: HeaderMap) -> Result<Response, crate::error::AppError> {
    let m = &state.config.metrics;
    if !m.enabled || !m.listen.is_empty() {
        return Err(crate::error::AppError::NotFound);
    }
    Ok(metrics(state, headers).await)
}

/// `GET /metrics`: the Prometheus scrape. With `metrics.token` set, only for a bearer of it.
/// The gauges that live in the database are read now; a database that does not answer
/// leaves them as they were, and the counters are still served.
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let token = state.config.metrics.token.expose();
    if !token.is_empty() {
        // The scheme's name is case-insensitive (RFC 9110 §11.1).
        let sent = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map_or("", |(_, t)| t.trim());
        if !crate::crypto::ct_eq(sent.as_bytes(), token.as_bytes()) {
            let mut resp = crate::error::AppError::Unauthorized.into_response();
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"metrics\""));
            return resp;
        }
    }
    let m = &state.metrics;
    match crate::store::outbox::count_by_status(&state.db).await {
        Ok(counts) => {
            for (status, n) in counts {
                m.set_outbox(status.as_str(), n);
            }
        }
        Err(e) => tracing::warn!(error = %e, "metrics: the outbox could not be counted"),
    }
    for (pool, size, idle) in state.db.pools() {
        m.set_pool(pool, size, idle);
    }
    m.set_plugin_standbys(state.plugins.standbys_used(), state.plugins.standbys_held());
    m.set_token_grants(state.grants.in_flight(), state.grants.waiting());
    let mut resp = m.encode().into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(crate::metrics::CONTENT_TYPE));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}
