//! Admin JSON API for selector plugins (`/api/v1/admin/plugins`). A plugin is addressed by
//! id, `NAME` (its newest version) or `NAME@VERSION`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::admin::query;
use crate::admin::Admin;
use crate::admin::plugins::{self, Upload};
use crate::error::{AppError, AppResult};
use crate::http::deadline::Deadline;
use crate::http::guards::{SameOriginJson, SameOriginJsonOrEmpty};
use crate::plugin_host::context::LoginContext;
use crate::state::AppState;
use crate::store;

type QueryResult<T> = Result<Query<T>, axum::extract::rejection::QueryRejection>;

fn ok(body: serde_json::Value) -> Response {
    Json(body).into_response()
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The plugin's name; uploading under a name again adds a version.
    name: String,
    #[serde(default)]
    description: String,
    /// Instructions per evaluation (at most the server's cap).
    fuel: Option<u64>,
    /// Linear memory cap, MiB (at most the server's cap).
    memory_mib: Option<u64>,
    /// Wall-clock budget per evaluation, ms (at most the server's cap).
    timeout_ms: Option<u64>,
}

/// A WebAssembly component's bytes, as a request body.
pub struct WasmComponent;

impl utoipa::PartialSchema for WasmComponent {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .content_media_type("application/wasm")
            .into()
    }
}

impl ToSchema for WasmComponent {}

/// Uploads a selector plugin: a WebAssembly component of the `portcullis:selector` world,
/// checked and compiled before it is stored.
#[utoipa::path(post, path = "/api/v1/admin/plugins", tag = "plugins", params(UploadQuery),
    request_body(content = inline(WasmComponent), content_type = "application/wasm", description = "The component"),
    responses((status = 201, description = "The stored version", body = store::plugins::Plugin)))]
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

#[derive(Serialize, ToSchema)]
pub struct PluginList {
    plugins: Vec<plugins::Listed>,
}

/// Every plugin version and where it is assigned.
#[utoipa::path(get, path = "/api/v1/admin/plugins", tag = "plugins",
    responses((status = 200, description = "Plugins", body = PluginList)))]
pub async fn list(State(state): State<AppState>, admin: Admin) -> AppResult<Response> {
    Ok(ok(json!(PluginList { plugins: plugins::list(&state, &admin).await? })))
}

#[derive(Serialize, ToSchema)]
pub struct PluginDetail {
    plugin: store::plugins::Plugin,
    assignments: Vec<store::plugins::Assignment>,
    stats: plugins::Stats,
}

/// One plugin version, its assignments and its figures.
#[utoipa::path(get, path = "/api/v1/admin/plugins/{plugin}", tag = "plugins",
    params(("plugin" = String, Path, description = "An id, `NAME` (the newest version) or `NAME@VERSION`")),
    responses((status = 200, description = "The plugin", body = PluginDetail)))]
pub async fn show(State(state): State<AppState>, admin: Admin, Path(reference): Path<String>) -> AppResult<Response> {
    let p = plugins::resolve(&state, &admin, &reference).await?;
    let assignments = store::plugins::assignments(&state.db, Some(&p.id)).await?;
    let stats = plugins::stats(&state, &admin, &p).await?;
    Ok(ok(json!(PluginDetail { plugin: p, assignments, stats })))
}

/// Removes a plugin version that is not assigned.
#[utoipa::path(delete, path = "/api/v1/admin/plugins/{plugin}", tag = "plugins",
    params(("plugin" = String, Path, description = "An id, `NAME` (the newest version) or `NAME@VERSION`")),
    responses((status = 204, description = "Removed")))]
pub async fn delete(State(state): State<AppState>, admin: Admin, Path(reference): Path<String>) -> AppResult<Response> {
    let p = plugins::resolve(&state, &admin, &reference).await?;
    plugins::delete(&state, &admin, &p).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    /// `active`, `shadow` or `disabled`.
    #[schema(example = "shadow")]
    mode: String,
    /// `fail_secure` (default) or `fail_open`.
    #[schema(example = "fail_secure")]
    on_error: Option<String>,
}

/// Assigns a plugin version globally or to one app (replacing what was there).
#[utoipa::path(put, path = "/api/v1/admin/plugins/{plugin}/assignments/{scope}", tag = "plugins",
    params(("plugin" = String, Path, description = "An id, `NAME` (the newest version) or `NAME@VERSION`"),
        ("scope" = String, Path, description = "`global` or an app id")),
    request_body = AssignBody,
    responses((status = 200, description = "The assignment", body = store::plugins::Assignment)))]
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

/// Takes a plugin off a scope.
#[utoipa::path(delete, path = "/api/v1/admin/plugins/{plugin}/assignments/{scope}", tag = "plugins",
    params(("plugin" = String, Path, description = "An id, `NAME` (the newest version) or `NAME@VERSION`"),
        ("scope" = String, Path, description = "`global` or an app id")),
    responses((status = 204, description = "Unassigned")))]
pub async fn unassign(
    State(state): State<AppState>,
    admin: Admin,
    Path((reference, scope)): Path<(String, String)>,
) -> AppResult<Response> {
    let p = plugins::resolve(&state, &admin, &reference).await?;
    plugins::unassign(&state, &admin, &p, &scope).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestBody {
    /// A login context to run on...
    context: Option<LoginContext>,
    /// ...or the context recorded with this decision-log entry.
    decision_id: Option<i64>,
}

/// Runs the plugin on a supplied or recorded context: decision, logs, fuel and time.
#[utoipa::path(post, path = "/api/v1/admin/plugins/{plugin}/test", tag = "plugins",
    params(("plugin" = String, Path, description = "An id, `NAME` (the newest version) or `NAME@VERSION`")),
    request_body = TestBody,
    responses((status = 200, description = "The evaluation", body = crate::plugin_host::Evaluation)))]
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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ReplayBody {
    /// How many of the latest recorded logins to replay (default 100).
    #[schema(example = 100)]
    last: i64,
}

impl Default for ReplayBody {
    fn default() -> Self {
        ReplayBody { last: 100 }
    }
}

/// Replays recorded logins through the plugin and reports where it would have decided
/// differently from what was enforced.
#[utoipa::path(post, path = "/api/v1/admin/plugins/{plugin}/replay", tag = "plugins",
    params(("plugin" = String, Path, description = "An id, `NAME` (the newest version) or `NAME@VERSION`")),
    request_body(content = Option<ReplayBody>, description = "Optional"),
    responses((status = 200, description = "The replay", body = plugins::Replay)))]
pub async fn replay(
    State(state): State<AppState>,
    admin: Admin,
    Path(reference): Path<String>,
    deadline: Option<Extension<Deadline>>,
    SameOriginJsonOrEmpty(b): SameOriginJsonOrEmpty<ReplayBody>,
) -> AppResult<Response> {
    let p = plugins::resolve(&state, &admin, &reference).await?;
    let r = plugins::replay(&state, &admin, &p, b.last, deadline.map(|d| d.at())).await?;
    Ok(ok(json!(r)))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DecisionsQuery {
    /// Only this plugin's (id, `NAME` or `NAME@VERSION`).
    plugin: Option<String>,
    /// 1–500 (default 50).
    limit: Option<i64>,
}

/// One recorded plugin evaluation of a login.
#[derive(Serialize, ToSchema)]
pub struct DecisionEntry {
    id: i64,
    at: i64,
    login_id: String,
    plugin_id: String,
    mode: crate::mfa::selector::PluginMode,
    user_id: Option<String>,
    app_id: Option<String>,
    /// The login context the plugin saw.
    #[schema(value_type = Object)]
    context: serde_json::Value,
    /// The evaluation (decision or failure, logs, fuel, time).
    #[schema(value_type = Object)]
    evaluation: serde_json::Value,
    /// What was enforced.
    #[schema(value_type = Object)]
    applied: serde_json::Value,
    error_kind: Option<String>,
    fuel_used: i64,
    duration_us: i64,
}

#[derive(Serialize, ToSchema)]
pub struct DecisionList {
    entries: Vec<DecisionEntry>,
}

/// The decision log, newest first (contexts and evaluations as recorded).
#[utoipa::path(get, path = "/api/v1/admin/plugin-decisions", tag = "plugins", params(DecisionsQuery),
    responses((status = 200, description = "Entries", body = DecisionList),
        (status = 404, description = "No such plugin", body = super::openapi::ApiError)))]
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
            DecisionEntry {
                id,
                at: r.at,
                context: parse(&r.context),
                evaluation: parse(&r.evaluation),
                applied: parse(&r.applied),
                login_id: r.login_id,
                plugin_id: r.plugin_id,
                mode: r.mode,
                user_id: r.user_id,
                app_id: r.app_id,
                error_kind: r.error_kind,
                fuel_used: r.fuel_used,
                duration_us: r.duration_us,
            }
        })
        .collect();
    Ok(ok(json!(DecisionList { entries })))
}
