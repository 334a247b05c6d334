//! Admin JSON API for selector plugins (`/api/v1/admin/plugins`). A plugin is addressed by
//! id, `NAME` (its newest version) or `NAME@VERSION`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::admin::query;
use crate::admin::Admin;
use crate::admin::plugins::{self, Upload};
use crate::error::{AppError, AppResult};
use crate::http::guards::{SameOriginJson, SameOriginJsonOrEmpty};
use crate::plugin_host::context::LoginContext;
use crate::state::AppState;
use crate::store;

type QueryResult<T> = Result<Query<T>, axum::extract::rejection::QueryRejection>;

fn ok(body: serde_json::Value) -> Response {
    Json(body).into_response()
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
    admin: Admin,
    q: QueryResult<UploadQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
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
    let plugin = plugins::upload(&state, &admin, &up).await?;
    Ok((StatusCode::CREATED, Json(json!(plugin))).into_response())
}

pub async fn list(State(state): State<AppState>, admin: Admin) -> AppResult<Response> {
    Ok(ok(json!({"plugins": plugins::list(&state, &admin).await?})))
}

pub async fn show(State(state): State<AppState>, admin: Admin, Path(reference): Path<String>) -> AppResult<Response> {
    let p = plugins::resolve(&state, &admin, &reference).await?;
    let assignments = store::plugins::assignments(&state.db, Some(&p.id)).await?;
    let stats = plugins::stats(&state, &admin, &p).await?;
    Ok(ok(json!({"plugin": p, "assignments": assignments, "stats": stats})))
}

pub async fn delete(State(state): State<AppState>, admin: Admin, Path(reference): Path<String>) -> AppResult<Response> {
    let p = plugins::resolve(&state, &admin, &reference).await?;
    plugins::delete(&state, &admin, &p).await?;
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
    admin: Admin,
    Path((reference, scope)): Path<(String, String)>,
    SameOriginJson(b): SameOriginJson<AssignBody>,
) -> AppResult<Response> {
    let p = plugins::resolve(&state, &admin, &reference).await?;
    let a = plugins::assign(&state, &admin, &p, &scope, &b.mode, b.on_error.as_deref()).await?;
    Ok(ok(json!(a)))
}

pub async fn unassign(
    State(state): State<AppState>,
    admin: Admin,
    Path((reference, scope)): Path<(String, String)>,
) -> AppResult<Response> {
    let p = plugins::resolve(&state, &admin, &reference).await?;
    plugins::unassign(&state, &admin, &p, &scope).await?;
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
    admin: Admin,
    Path(reference): Path<String>,
    SameOriginJson(b): SameOriginJson<TestBody>,
) -> AppResult<Response> {
    let p = plugins::resolve(&state, &admin, &reference).await?;
    let context = match (b.context, b.decision_id) {
        (Some(c), None) => c,
        (None, Some(id)) => {
            let row = store::plugins::decision(&state.db, id).await?.ok_or(AppError::NotFound)?;
            serde_json::from_str(&row.decision.context).map_err(AppError::internal)?
        }
        _ => return Err(AppError::BadRequest("give either `context` or `decision_id`".into())),
    };
    let evaluation = plugins::test(&state, &admin, &p, context).await;
    Ok(ok(json!(evaluation)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReplayBody {
    last: i64,
}

impl Default for ReplayBody {
    fn default() -> Self {
        ReplayBody { last: 100 }
    }
}

pub async fn replay(
    State(state): State<AppState>,
    admin: Admin,
    Path(reference): Path<String>,
    SameOriginJsonOrEmpty(b): SameOriginJsonOrEmpty<ReplayBody>,
) -> AppResult<Response> {
    let p = plugins::resolve(&state, &admin, &reference).await?;
    let r = plugins::replay(&state, &admin, &p, b.last).await?;
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
    admin: Admin,
    q: QueryResult<DecisionsQuery>,
) -> AppResult<Response> {
    let q = query(q)?;
    let plugin_id = match &q.plugin {
        Some(r) => Some(plugins::resolve(&state, &admin, r).await?.id),
        None => None,
    };
    state.decisions.flush().await;
    let rows = store::plugins::decisions(&state.db, plugin_id.as_deref(), q.limit.unwrap_or(50).clamp(1, 500)).await?;
    let entries: Vec<_> = rows
        .into_iter()
        .map(|row| {
            let (id, r) = (row.id, row.decision);
            let parse = |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap_or(serde_json::Value::Null);
            json!({
                "id": id, "at": r.at, "login_id": r.login_id, "plugin_id": r.plugin_id, "mode": r.mode,
                "user_id": r.user_id, "app_id": r.app_id, "context": parse(&r.context),
                "evaluation": parse(&r.evaluation), "applied": parse(&r.applied), "error_kind": r.error_kind,
                "fuel_used": r.fuel_used, "duration_us": r.duration_us,
            })
        })
        .collect();
    Ok(ok(json!({"entries": entries})))
}
