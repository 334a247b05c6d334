//! The admin pages for selector plugins (`/admin/plugins`): upload, metadata and stats,
//! assignment (shadow or active, globally or per app), test on a context or a recorded login,
//! replay against recent logins, delete. The same registry operations as the admin JSON API
//! and the CLI, as CSRF-protected forms.

use axum::body::Bytes;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use tokio::time::Instant;

use super::cookies;
use super::deadline::Deadline;
use super::error::{PageResult, page_message, render, status_of};
use super::guards::{AdminPage, CsrfForm, CsrfRejection, form_expired};
use super::notice::{Done, Notice};
use crate::admin::Admin;
use crate::admin::plugins::{self, Effect, Upload};
use crate::error::{AppError, AppResult, Msg};
use crate::mfa::selector::PluginMode;
use crate::plugin_host::context::LoginContext;
use crate::plugin_host::{Evaluation, Failure};
use crate::state::AppState;
use crate::store;
use crate::store::plugins::{GLOBAL, Plugin};
use crate::web::i18n;
use crate::web::{
    AdminPluginPage, AdminPluginsPage, AssignmentRow, Choice, PluginListRow, PluginView, ReplayRow, ReplayView,
    StatsView, TestView, when,
};

/// A context to start from in the test form when no login has been recorded yet.
const SAMPLE_CONTEXT: &str = include_str!("../../plugins/examples/js/context.json");
const RECENT_LOGINS: i64 = 20;
const DEFAULT_REPLAY: i64 = 100;

// ---- the list and upload ----

pub async fn list(
    State(state): State<AppState>,
    jar: CookieJar,
    AdminPage(admin): AdminPage,
    done: Done,
) -> PageResult<Response> {
    let notice = done.localized();
    Ok(list_page(&state, &admin, jar, notice.as_deref(), None, StatusCode::OK).await?)
}

async fn list_page(
    state: &AppState,
    admin: &Admin,
    jar: CookieJar,
    notice: Option<&str>,
    error: Option<&str>,
    status: StatusCode,
) -> AppResult<Response> {
    let apps = app_names(state).await?;
    let plugins = plugins::list(state, admin)
        .await?
        .into_iter()
        .map(|l| PluginListRow {
            assigned: l
                .assignments
                .iter()
                .map(|a| format!("{} ({})", a.mode, scope_label(&apps, &a.scope)))
                .collect::<Vec<_>>()
                .join(", "),
            active: l.assignments.iter().any(|a| a.mode == PluginMode::Active),
            row: plugin_view(&l.plugin),
        })
        .collect();
    let (jar, csrf) = cookies::csrf_token(state, jar);
    let d = state.plugins.default_limits();
    let page = AdminPluginsPage {
        csrf: &csrf,
        notice,
        error,
        plugins,
        max_upload: kib(state.plugins.caps().max_upload_bytes as i64),
        default_fuel: d.fuel,
        default_memory_mib: d.memory_bytes / (1024 * 1024),
        default_timeout_ms: d.timeout_ms,
    };
    Ok((jar, render(status, &page)).into_response())
}

#[derive(Default)]
struct UploadForm {
    csrf: Option<String>,
    name: String,
    description: String,
    fuel: Option<u64>,
    memory_mib: Option<u64>,
    timeout_ms: Option<u64>,
    file: Option<Bytes>,
}

fn optional_number(key: &str, v: &str) -> AppResult<Option<u64>> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    v.parse().map(Some).map_err(|_| AppError::BadRequest(Msg::key("adm-err-number-or-empty").with("field", key)))
}

async fn read_upload(state: &AppState, mp: Result<Multipart, MultipartRejection>) -> AppResult<UploadForm> {
    let unreadable = |e: String| AppError::BadRequest(Msg::key("adm-err-upload-unreadable").with("why", e));
    let mut mp = mp.map_err(|e| unreadable(e.body_text()))?;
    let mut f = UploadForm::default();
    let too_large = || {
        let cap = state.plugins.caps().max_upload_bytes;
        AppError::BadRequest(Msg::key("adm-err-component-size").with("size", kib(cap as i64)))
    };
    loop {
        let field = match mp.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
            Err(e) => return Err(unreadable(e.body_text())),
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            let bytes = match field.bytes().await {
                Ok(b) => b,
                Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
                Err(e) => return Err(unreadable(e.body_text())),
            };
            f.file = Some(bytes);
            continue;
        }
        let text = field.text().await.map_err(|e| unreadable(e.body_text()))?;
        match name.as_str() {
            "csrf" => f.csrf = Some(text),
            "name" => f.name = text.trim().to_owned(),
            "description" => f.description = text.trim().to_owned(),
            "fuel" => f.fuel = optional_number("fuel", &text)?,
            "memory_mib" => f.memory_mib = optional_number("memory_mib", &text)?,
            "timeout_ms" => f.timeout_ms = optional_number("timeout_ms", &text)?,
            _ => {}
        }
    }
    Ok(f)
}

/// `POST /admin/plugins` (multipart): a new plugin, or a new version of one.
pub async fn upload(
    State(state): State<AppState>,
    jar: CookieJar,
    AdminPage(admin): AdminPage,
    mp: Result<Multipart, MultipartRejection>,
) -> PageResult<Response> {
    let f = match read_upload(&state, mp).await {
        Ok(f) => f,
        Err(e) => return Ok(list_page(&state, &admin, jar, None, Some(&page_message(&e)), status_of(&e)).await?),
    };
    if !cookies::verify_csrf(&state, &jar, f.csrf.as_deref()) {
        return Ok(list_page(&state, &admin, jar, None, Some(form_expired().as_str()), StatusCode::FORBIDDEN).await?);
    }
    let result = match f.file.as_deref() {
        None | Some([]) => Err(AppError::BadRequest(Msg::key("adm-err-no-component"))),
        Some(bytes) => {
            let up = Upload {
                name: &f.name,
                description: &f.description,
                bytes,
                fuel: f.fuel,
                memory_mib: f.memory_mib,
                timeout_ms: f.timeout_ms,
            };
            plugins::upload(&state, &admin, &up).await
        }
    };
    match result {
        Ok(p) => Ok(Notice::PluginUploaded.redirect(&format!("/admin/plugins/{}", p.id)).into_response()),
        Err(e) if e.http_status() < 500 => {
            Ok(list_page(&state, &admin, jar, None, Some(&page_message(&e)), status_of(&e)).await?)
        }
        Err(e) => Err(e.into()),
    }
}

// ---- one plugin version ----

pub async fn show(
    State(state): State<AppState>,
    jar: CookieJar,
    Path(id): Path<String>,
    AdminPage(admin): AdminPage,
    done: Done,
) -> PageResult<Response> {
    let plugin = find(&state, &id).await?;
    let view = View { notice: done.localized(), ..View::default() };
    Ok(plugin_page(&state, &admin, jar, &plugin, view, StatusCode::OK).await?)
}

/// What a page shows besides the plugin itself.
#[derive(Default)]
struct View {
    notice: Option<String>,
    error: Option<String>,
    context: Option<String>,
    test: Option<TestView>,
    replay: Option<ReplayView>,
    last: Option<i64>,
}

async fn plugin_page(
    state: &AppState,
    admin: &Admin,
    jar: CookieJar,
    plugin: &Plugin,
    view: View,
    status: StatusCode,
) -> AppResult<Response> {
    let apps = app_names(state).await?;
    let assignments = store::plugins::assignments(&state.db, Some(&plugin.id))
        .await?
        .into_iter()
        .map(|a| AssignmentRow {
            scope_label: scope_label(&apps, &a.scope),
            scope: a.scope,
            mode: a.mode.as_str(),
            on_error: a.on_error.as_str(),
            updated: when(a.updated_at),
        })
        .collect();
    let s = plugins::stats(state, admin, plugin).await?;
    let stats = StatsView {
        evaluations: s.evaluations,
        errors: s.errors.iter().map(|(k, n)| format!("{k}: {n}")).collect::<Vec<_>>().join(", "),
        latency_p50_us: s.latency_p50_us,
        latency_p99_us: s.latency_p99_us,
        fuel_p50: s.fuel_p50,
        fuel_max: s.fuel_max,
    };
    let mut scopes = vec![Choice { value: GLOBAL.into(), label: i18n::t("adm-scope-global") }];
    scopes.extend(apps.iter().map(|(id, name)| Choice { value: id.clone(), label: name.clone() }));
    let recorded = store::plugins::recent_logins(&state.db, RECENT_LOGINS).await?;
    let recent = recorded
        .iter()
        .map(|r| Choice { value: r.id.to_string(), label: login_label(r.decision.at, &r.decision.context) })
        .collect();
    let context = match view.context {
        Some(c) => c,
        None => match recorded.first() {
            Some(r) => pretty(&r.decision.context),
            None => SAMPLE_CONTEXT.to_owned(),
        },
    };
    let (jar, csrf) = cookies::csrf_token(state, jar);
    let page = AdminPluginPage {
        csrf: &csrf,
        notice: view.notice.as_deref(),
        error: view.error.as_deref(),
        p: plugin_view(plugin),
        assignments,
        stats,
        scopes,
        recent,
        context,
        test: view.test,
        replay: view.replay,
        last: view.last.unwrap_or(DEFAULT_REPLAY),
    };
    Ok((jar, render(status, &page)).into_response())
}

#[derive(Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    scope: String,
    #[serde(default)]
    mode: String,
    on_error: Option<String>,
    context: Option<String>,
    decision_id: Option<String>,
    last: Option<String>,
}

enum Action {
    Assign,
    Unassign,
    Delete,
    Test,
    Replay,
}

impl Action {
    fn parse(s: &str) -> Option<Action> {
        Some(match s {
            "assign" => Action::Assign,
            "unassign" => Action::Unassign,
            "delete" => Action::Delete,
            "test" => Action::Test,
            "replay" => Action::Replay,
            _ => return None,
        })
    }
}

/// `POST /admin/plugins/{id}/{action}`: assign, unassign, delete, test or replay.
pub async fn act(
    State(state): State<AppState>,
    jar: CookieJar,
    Path((id, action)): Path<(String, String)>,
    AdminPage(admin): AdminPage,
    deadline: Option<Extension<Deadline>>,
    form: Result<CsrfForm<ActionForm>, CsrfRejection<ActionForm>>,
) -> PageResult<Response> {
    let action = Action::parse(&action).ok_or(AppError::NotFound)?;
    let until = deadline.map(|d| d.at());
    let plugin = find(&state, &id).await?;
    let f = match form {
        Ok(CsrfForm(f)) => f,
        Err(r) => {
            r.expired_form()?;
            let view = View { error: Some(form_expired()), ..View::default() };
            return Ok(plugin_page(&state, &admin, jar, &plugin, view, StatusCode::FORBIDDEN).await?);
        }
    };
    let context = f.context.clone();
    match run(&state, &admin, &plugin, f, action, until).await {
        Ok(Outcome::Redirect(to)) => Ok(Redirect::to(&to).into_response()),
        Ok(Outcome::Show(view, status)) => Ok(plugin_page(&state, &admin, jar, &plugin, *view, status).await?),
        Err(e) if e.http_status() < 500 => {
            // The test context typed in stays in the form, to be corrected.
            let view = View { error: Some(page_message(&e)), context, ..View::default() };
            Ok(plugin_page(&state, &admin, jar, &plugin, view, status_of(&e)).await?)
        }
        Err(e) => Err(e.into()),
    }
}

/// What an action leads to: another page after a change, or this one with a result.
enum Outcome {
    Redirect(String),
    Show(Box<View>, StatusCode),
}

async fn run(
    state: &AppState,
    admin: &Admin,
    plugin: &Plugin,
    f: ActionForm,
    action: Action,
    until: Option<Instant>,
) -> AppResult<Outcome> {
    let here = format!("/admin/plugins/{}", plugin.id);
    Ok(match action {
        Action::Assign => {
            plugins::assign(state, admin, plugin, &f.scope, &f.mode, f.on_error.as_deref()).await?;
            Outcome::Redirect(Notice::PluginAssigned.url(&here))
        }
        Action::Unassign => {
            plugins::unassign(state, admin, plugin, &f.scope).await?;
            Outcome::Redirect(Notice::PluginUnassigned.url(&here))
        }
        Action::Delete => {
            plugins::delete(state, admin, plugin).await?;
            Outcome::Redirect(Notice::PluginDeleted.url("/admin/plugins"))
        }
        Action::Test => run_test(state, admin, plugin, f).await?,
        Action::Replay => Outcome::Show(Box::new(run_replay(state, admin, plugin, f, until).await?), StatusCode::OK),
    })
}

/// Runs the plugin on the context in the form, or on a recorded login's; nothing is
/// recorded or enforced.
async fn run_test(state: &AppState, admin: &Admin, plugin: &Plugin, f: ActionForm) -> AppResult<Outcome> {
    let decision_id = f.decision_id.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let (context, text) = match decision_id {
        Some(id) => {
            let row = match id.parse() {
                Ok(id) => store::plugins::decision(&state.db, id).await?,
                Err(_) => None,
            };
            let Some(row) = row else {
                let view = View { error: Some(i18n::t("adm-err-decision-gone")), ..View::default() };
                return Ok(Outcome::Show(Box::new(view), StatusCode::NOT_FOUND));
            };
            let context: LoginContext = serde_json::from_str(&row.decision.context).map_err(AppError::internal)?;
            (context, pretty(&row.decision.context))
        }
        None => {
            let text = f.context.unwrap_or_default();
            let context = serde_json::from_str::<LoginContext>(&text)
                .map_err(|e| AppError::BadRequest(Msg::key("adm-err-context").with("why", e)))?;
            (context, text)
        }
    };
    let evaluation = plugins::test(state, admin, plugin, context).await;
    let view = View { test: Some(test_view(&evaluation)), context: Some(text), ..View::default() };
    Ok(Outcome::Show(Box::new(view), StatusCode::OK))
}

async fn run_replay(
    state: &AppState,
    admin: &Admin,
    plugin: &Plugin,
    f: ActionForm,
    until: Option<Instant>,
) -> AppResult<View> {
    let last = match f.last.as_deref().map(str::trim).unwrap_or("").parse::<i64>() {
        Ok(n) if (1..=1000).contains(&n) => n,
        _ => return Err(AppError::BadRequest(Msg::key("adm-err-replay-last"))),
    };
    let r = plugins::replay(state, admin, plugin, last, until).await?;
    let rows = r
        .results
        .iter()
        .filter(|x| x.differs || x.evaluation.outcome.is_err())
        .map(|x| ReplayRow {
            decision_id: x.decision_id,
            at: when(x.at),
            user: x.username.clone(),
            recorded: effect_text(&x.recorded),
            candidate: effect_text(&x.candidate),
            failure: x.evaluation.outcome.as_ref().err().map(failure_text),
        })
        .collect();
    let replay = ReplayView {
        logins: r.logins,
        found: r.found,
        complete: r.complete,
        differences: r.differences,
        failures: r.failures,
        rows,
    };
    Ok(View { replay: Some(replay), last: Some(last), ..View::default() })
}

// ---- helpers ----

async fn find(state: &AppState, id: &str) -> AppResult<Plugin> {
    store::plugins::find(&state.db, id).await?.ok_or(AppError::NotFound)
}

async fn app_names(state: &AppState) -> AppResult<Vec<(String, String)>> {
    Ok(store::apps::list(&state.db).await?.into_iter().map(|a| (a.id, a.name)).collect())
}

fn scope_label(apps: &[(String, String)], scope: &str) -> String {
    if scope == GLOBAL {
        return "global".into();
    }
    apps.iter().find(|(id, _)| id == scope).map_or_else(|| scope.to_owned(), |(_, name)| name.clone())
}

fn kib(bytes: i64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    }
}

fn plugin_view(p: &Plugin) -> PluginView {
    PluginView {
        id: p.id.clone(),
        name: p.name.clone(),
        version: p.version,
        description: p.description.clone(),
        world: p.world_version.clone(),
        sha256: p.sha256.clone(),
        size: kib(p.size),
        fuel: p.fuel,
        memory_mib: p.memory_bytes / (1024 * 1024),
        timeout_ms: p.timeout_ms,
        uploaded: when(p.created_at),
    }
}

fn pretty(json: &str) -> String {
    serde_json::from_str::<serde_json::Value>(json)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| json.to_owned())
}

/// "2026-11-22 14:03 UTC · alice → Wiki" for the recorded-login picker.
fn login_label(at: i64, context: &str) -> String {
    match serde_json::from_str::<LoginContext>(context) {
        Ok(c) => {
            let app = c.app.map_or_else(|| "Portcullis".to_owned(), |a| a.name);
            format!("{} · {} → {app}", when(at), c.user.username)
        }
        Err(_) => when(at),
    }
}

fn failure_text(f: &Failure) -> String {
    format!("{}: {}", f.kind.as_str(), f.message)
}

fn test_view(e: &Evaluation) -> TestView {
    let (decision, failure) = match &e.outcome {
        Ok(d) => (serde_json::to_string_pretty(d).ok(), None),
        Err(f) => (None, Some(failure_text(f))),
    };
    TestView {
        decision,
        failure,
        logs: e.logs.clone(),
        logs_dropped: e.logs_dropped,
        fuel_used: e.fuel_used.map_or("unknown".to_owned(), |f| f.to_string()),
        duration_us: e.duration_us,
    }
}

/// An effect in words: "otp · factors: passkey · ask again after 60 min · no trusted-device skip".
fn effect_text(e: &Effect) -> String {
    if e.denied {
        return i18n::t("adm-effect-denied");
    }
    let mut parts = vec![e.policy.as_str().to_owned()];
    if let Some(f) = &e.allowed_factors {
        let names = f.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(", ");
        parts.push(i18n::t1("adm-effect-factors", "factors", names));
    }
    if let Some(m) = e.reauth_interval_minutes {
        parts.push(i18n::t1("adm-ask-again-after", "minutes", m));
    }
    if !e.allow_trusted_device {
        parts.push(i18n::t("adm-effect-no-trust"));
    }
    parts.join(" · ")
}
