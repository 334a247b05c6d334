//! Admin JSON API for selector plugins (`/api/v1/admin/plugins`). A plugin is addressed by
//! id, `NAME` (its newest version) or `NAME@VERSION`.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use serde_json::json;

use super::api::{no_store, require_admin};
use super::client::ClientInfo;
use super::forms;
use crate::error::{AppError, AppResult};
use crate::plugin_host::context::LoginContext;
use crate::plugin_host::registry::{self, Actor, Upload};
use crate::state::AppState;
use crate::store;

type QueryResult<T> = Result<Query<T>, axum::extract::rejection::QueryRejection>;

fn query<T>(q: QueryResult<T>) -> AppResult<T> {
    q.map(|Query(v)| v).map_err(|e| AppError::BadRequest(format!("query: {}", e.body_text())))
}

fn ok(body: serde_json::Value) -> Response {
    no_store(CookieJar::new(), StatusCode::OK, body)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    name: String,
    #[serde(default)]
    description: String,
    fuel: Option<u64>,
    memory_mib: Option<u64>,
    timeout_ms: Option<u64>,
}

/// `POST /api/v1/admin/plugins?name=...` with the component as an `application/wasm` body.
pub async fn upload(
    State(state): State<AppState>,
    ClientInfo(client): ClientInfo,
    q: QueryResult<UploadQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let (_, admin) = require_admin(&state, &client).await?;
    let q = query(q)?;
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !ct.starts_with("application/wasm") {
        return Err(AppError::BadRequest("Content-Type must be application/wasm".into()));
    }
    let up = Upload {
        name: &q.name,
        description: &q.description,
        bytes: &body,
        fuel: q.fuel,
        memory_mib: q.memory_mib,
        timeout_ms: q.timeout_ms,
    };
    let actor = Actor { user_id: Some(&admin.id), origin: &client.origin };
    let plugin = registry::upload(&state, &up, &actor).await?;
    Ok(no_store(CookieJar::new(), StatusCode::CREATED, json!(plugin)))
}

pub async fn list(State(state): State<AppState>, ClientInfo(client): ClientInfo) -> AppResult<Response> {
    require_admin(&state, &client).await?;
    Ok(ok(json!({"plugins": registry::list(&state).await?})))
}

pub async fn show(
    State(state): State<AppState>,
    ClientInfo(client): ClientInfo,
    Path(reference): Path<String>,
) -> AppResult<Response> {
    require_admin(&state, &client).await?;
    let p = registry::resolve(&state, &reference).await?;
    let assignments = store::plugins::assignments(&state.db, Some(&p.id)).await?;
    let stats = registry::stats(&state, &p).await?;
    Ok(ok(json!({"plugin": p, "assignments": assignments, "stats": stats})))
}

pub async fn delete(
    State(state): State<AppState>,
    ClientInfo(client): ClientInfo,
    Path(reference): Path<String>,
) -> AppResult<Response> {
    let (_, admin) = require_admin(&state, &client).await?;
    let p = registry::resolve(&state, &reference).await?;
    registry::delete(&state, &p, &Actor { user_id: Some(&admin.id), origin: &client.origin }).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    mode: String,
    on_error: Option<String>,
}

/// `PUT /api/v1/admin/plugins/{plugin}/assignments/{scope}` — scope `global` or an app id.
pub async fn assign(
    State(state): State<AppState>,
    ClientInfo(client): ClientInfo,
    Path((reference, scope)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let (_, admin) = require_admin(&state, &client).await?;
    let b: AssignBody = forms::json(&headers, &body)?;
    let p = registry::resolve(&state, &reference).await?;
    let actor = Actor { user_id: Some(&admin.id), origin: &client.origin };
    let a = registry::assign(&state, &p, &scope, &b.mode, b.on_error.as_deref(), &actor).await?;
    Ok(ok(json!(a)))
}

pub async fn unassign(
    State(state): State<AppState>,
    ClientInfo(client): ClientInfo,
    Path((reference, scope)): Path<(String, String)>,
) -> AppResult<Response> {
    let (_, admin) = require_admin(&state, &client).await?;
    let p = registry::resolve(&state, &reference).await?;
    registry::unassign(&state, &p, &scope, &Actor { user_id: Some(&admin.id), origin: &client.origin }).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestBody {
    /// A login context to run on...
    context: Option<LoginContext>,
    /// ...or the context recorded with this decision-log entry.
    decision_id: Option<i64>,
}

/// Runs the plugin on a supplied or recorded context: decision, logs, fuel and time.
pub async fn test(
    State(state): State<AppState>,
    ClientInfo(client): ClientInfo,
    Path(reference): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    require_admin(&state, &client).await?;
    let b: TestBody = forms::json(&headers, &body)?;
    let p = registry::resolve(&state, &reference).await?;
    let context = match (b.context, b.decision_id) {
        (Some(c), None) => c,
        (None, Some(id)) => {
            let row = store::plugins::decision(&state.db, id).await?.ok_or(AppError::NotFound)?;
            serde_json::from_str(&row.context).map_err(AppError::internal)?
        }
        _ => return Err(AppError::BadRequest("give either `context` or `decision_id`".into())),
    };
    let evaluation = registry::test(&state, &p, context).await;
    Ok(ok(json!(evaluation)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplayBody {
    #[serde(default = "default_last")]
    last: i64,
}

fn default_last() -> i64 {
    100
}

pub async fn replay(
    State(state): State<AppState>,
    ClientInfo(client): ClientInfo,
    Path(reference): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    require_admin(&state, &client).await?;
    let b: ReplayBody =
        if body.is_empty() { ReplayBody { last: default_last() } } else { forms::json(&headers, &body)? };
    let p = registry::resolve(&state, &reference).await?;
    let r = registry::replay(&state, &p, b.last).await?;
    Ok(ok(json!(r)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionsQuery {
    plugin: Option<String>,
    limit: Option<i64>,
}

/// The decision log, newest first (contexts and evaluations as recorded).
pub async fn decisions(
    State(state): State<AppState>,
    ClientInfo(client): ClientInfo,
    q: QueryResult<DecisionsQuery>,
) -> AppResult<Response> {
    require_admin(&state, &client).await?;
    let q = query(q)?;
    let plugin_id = match &q.plugin {
        Some(r) => Some(registry::resolve(&state, r).await?.id),
        None => None,
    };
    state.decisions.flush().await;
    let rows = store::plugins::decisions(&state.db, plugin_id.as_deref(), q.limit.unwrap_or(50).clamp(1, 500)).await?;
    let entries: Vec<_> = rows
        .into_iter()
        .map(|r| {
            let parse = |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap_or(serde_json::Value::Null);
            json!({
                "id": r.id, "at": r.at, "login_id": r.login_id, "plugin_id": r.plugin_id, "mode": r.mode,
                "user_id": r.user_id, "app_id": r.app_id, "context": parse(&r.context),
                "evaluation": parse(&r.evaluation), "applied": parse(&r.applied), "error_kind": r.error_kind,
                "fuel_used": r.fuel_used, "duration_us": r.duration_us,
            })
        })
        .collect();
    Ok(ok(json!({"entries": entries})))
}
