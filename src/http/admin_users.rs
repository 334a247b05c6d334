//! The admin console's home (`/admin`) and its users (`/admin/users`, `/admin/users/{id}`):
//! a searchable, paged list, and one user's page with everything an administrator does for
//! them — remove a factor, new backup codes, trusted devices, sessions, groups, disable,
//! reset MFA, a recovery link, unlock — each a CSRF-protected form handled by `crate::admin`
//! (which audits it). Destructive actions need their confirmation box ticked.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::cookies;
use super::error::{PageResult, page_message, render, status_of};
use super::guards::{AdminPage, CsrfForm, CsrfRejection, form_expired};
use super::notice::{Done, Notice};
use crate::admin::{Admin, mfa as admin_mfa, users};
use crate::error::{AppError, AppResult, Msg};
use crate::state::AppState;
use crate::store::{self, users::User};
use crate::web::i18n;
use crate::web::{AdminHomePage, AdminUserPage, AdminUsersPage, AuditRow, SessionRow, UserListRow, when};

const PAGE_SIZE: i64 = 25;

/// `GET /admin`: where an administrator starts — figures of the last day and the ways on.
pub async fn home(State(state): State<AppState>, AdminPage(admin): AdminPage) -> PageResult<Response> {
    let stats = crate::admin::stats::stats(&state, &admin).await?;
    let day = stats.logins.get("24h").ok_or_else(|| AppError::internal("no 24h window"))?;
    let page = AdminHomePage {
        users: stats.mfa.users,
        enrolled: stats.mfa.enrolled_users,
        rate_percent: (stats.mfa.enrollment_rate * 100.0).round() as i64,
        sign_ins: day.sign_ins,
        failures: day.failures + day.password_failures,
        lockouts: day.lockouts,
        recoveries: day.recoveries,
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: i64,
}

/// `GET /admin/users?q=&page=`.
pub async fn list(
    State(state): State<AppState>,
    jar: CookieJar,
    AdminPage(_): AdminPage,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> PageResult<Response> {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    Ok(list_page(&state, jar, q, None, &NewUserForm::default(), StatusCode::OK).await?)
}

async fn list_page(
    state: &AppState,
    jar: CookieJar,
    q: ListQuery,
    error: Option<&str>,
    new_user: &NewUserForm,
    status: StatusCode,
) -> AppResult<Response> {
    let search: String = q.q.trim().chars().take(100).collect();
    let page = q.page.clamp(0, 100_000);
    let (found, total) = store::users::search(&state.db, &search, PAGE_SIZE, page * PAGE_SIZE).await?;
    let now = state.now();
    let mut rows = Vec::with_capacity(found.len());
    for u in found {
        let enrolled = store::factors::enrolled(&state.db, &u.id).await?;
        rows.push(UserListRow {
            id: u.id.clone(),
            username: u.username.clone(),
            email: u.email.clone().unwrap_or_default(),
            email_verified: u.email_verified,
            groups: store::users::find_groups(&state.db, &u.id).await?.join(", "),
            factors: enrolled
                .list()
                .iter()
                .map(|f| i18n::t1("adm-factor", "f", f.as_str()))
                .collect::<Vec<_>>()
                .join(", "),
            mfa: enrolled.any(),
            last_sign_in: store::users::last_sign_in(&state.db, &u.id).await?.map(when),
            locked: users::locked_until(state, &u).await?.is_some_and(|t| t > now),
            disabled: u.disabled,
            is_admin: u.is_admin,
            invited: u.password_hash.is_none(),
        });
    }
    let pages = (total + PAGE_SIZE - 1) / PAGE_SIZE;
    let (jar, csrf) = cookies::csrf_token(state, jar);
    let p = AdminUsersPage {
        q: &search,
        rows,
        total,
        page,
        pages,
        csrf: &csrf,
        error,
        new_username: &new_user.username,
        new_email: &new_user.email,
        new_display_name: &new_user.display_name,
        new_groups: &new_user.groups,
        invitation_days: crate::mfa::recovery::email_link_seconds(crate::store::links::LinkPurpose::Invitation)
            / 86_400,
        email_available: state.delivery.is_available(crate::delivery::Channel::Email),
    };
    Ok((jar, render(status, &p)).into_response())
}

/// `GET /admin/users/{id}`.
pub async fn show(
    State(state): State<AppState>,
    jar: CookieJar,
    AdminPage(admin): AdminPage,
    Path(id): Path<String>,
    done: Done,
) -> PageResult<Response> {
    let user = admin_mfa::user(&state, &id).await?;
    let view = View { notice: done.localized(), ..View::default() };
    Ok(page(&state, jar, &admin, &user, view, StatusCode::OK).await?)
}

/// What one rendering adds: a message, or something shown once.
#[derive(Default)]
struct View {
    notice: Option<String>,
    error: Option<String>,
    codes: Option<Vec<String>>,
    recovery_url: Option<String>,
    invitation_url: Option<String>,
}

async fn page(
    state: &AppState,
    jar: CookieJar,
    admin: &Admin,
    user: &User,
    view: View,
    status: StatusCode,
) -> AppResult<Response> {
    let now = state.now();
    let mfa = admin_mfa::status(state, admin, user).await?;
    let sessions = store::sessions::list_for_user(&state.db, &user.id, now)
        .await?
        .into_iter()
        .map(|s| SessionRow {
            device: crate::web::device::device_name(s.user_agent.as_deref()),
            ip: s.ip.unwrap_or_default(),
            id: s.id,
            started: when(s.auth_time),
            last_seen: when(s.last_seen_at),
            second_step: s.mfa_factor.unwrap_or_else(|| "—".into()),
        })
        .collect();
    let filter = store::audit::Filter { user_id: Some(&user.id), ..Default::default() };
    let audit = store::audit::list(&state.db, &filter, 20)
        .await?
        .into_iter()
        .map(|e| AuditRow { at: when(e.at), event: e.event, by_admin: e.actor_id.is_some(), detail: e.detail })
        .collect();
    let (jar, csrf) = cookies::csrf_token(state, jar);
    let p = AdminUserPage {
        csrf: &csrf,
        user,
        notice: view.notice.as_deref(),
        error: view.error.as_deref(),
        groups: store::users::find_groups(&state.db, &user.id).await?,
        factors: mfa
            .factors
            .iter()
            .map(|f| (f.id.clone(), i18n::t1("adm-factor", "f", f.kind.as_str()), f.name.clone(), when(f.created_at)))
            .collect(),
        backup_remaining: mfa.backup_codes_remaining,
        devices: mfa.trusted_devices.iter().map(|d| (d.id.clone(), d.name.clone(), when(d.last_seen_at))).collect(),
        sessions,
        locked_until: users::locked_until(state, user).await?.map(when),
        last_sign_in: store::users::last_sign_in(&state.db, &user.id).await?.map(when),
        audit,
        codes: view.codes,
        recovery_url: view.recovery_url,
        invitation_url: view.invitation_url,
        invited: user.password_hash.is_none(),
        invitation_days: crate::mfa::recovery::email_link_seconds(crate::store::links::LinkPurpose::Invitation)
            / 86_400,
        email_verified: mfa.email_verified,
        is_self: admin.actor_id() == Some(user.id.as_str()),
    };
    Ok((jar, render(status, &p)).into_response())
}

#[derive(Deserialize)]
pub struct ActionForm {
    /// The factor, device or session the action is about.
    #[serde(default)]
    item: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    group: String,
    #[serde(default)]
    expires_hours: String,
    #[serde(default)]
    expires_days: String,
    #[serde(default)]
    email: Option<String>,
    /// The box a destructive action needs ticked.
    #[serde(default)]
    confirm: Option<String>,
}

/// `POST /admin/users/{id}/{action}`.
pub async fn act(
    State(state): State<AppState>,
    jar: CookieJar,
    AdminPage(admin): AdminPage,
    Path((id, action)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<ActionForm>,
) -> PageResult<Response> {
    let user = admin_mfa::user(&state, &id).await?;
    match run(&state, &admin, &user, &action, &f).await {
        Ok(Some(view)) => Ok(page(&state, jar, &admin, &user, view, StatusCode::OK).await?),
        Ok(None) => Ok(Notice::UserChanged.redirect(&format!("/admin/users/{}", user.id)).into_response()),
        Err(e) if e.http_status() < 500 => {
            let view = View { error: Some(page_message(&e)), ..View::default() };
            // The user may be gone or changed: show what is there now.
            let user = admin_mfa::user(&state, &id).await.unwrap_or(user);
            Ok(page(&state, jar, &admin, &user, view, status_of(&e)).await?)
        }
        Err(e) => Err(e.into()),
    }
}

fn confirmed(f: &ActionForm) -> AppResult<()> {
    match f.confirm.as_deref() {
        Some("yes") => Ok(()),
        _ => Err(AppError::BadRequest(Msg::key("adm-err-confirm-undo"))),
    }
}

/// Does `action`; `Some` when the page has something to show once.
async fn run(state: &AppState, admin: &Admin, user: &User, action: &str, f: &ActionForm) -> AppResult<Option<View>> {
    let reason = Some(f.reason.as_str()).filter(|r| !r.trim().is_empty());
    match action {
        "remove-factor" => {
            confirmed(f)?;
            admin_mfa::remove_factor(state, admin, user, &f.item, reason).await?;
        }
        "backup-codes" => {
            let codes = admin_mfa::generate_backup_codes(state, admin, user).await?;
            return Ok(Some(View {
                notice: Some(i18n::t("adm-note-backup-codes")),
                codes: Some(codes),
                ..View::default()
            }));
        }
        "recovery-link" => {
            let hours: i64 =
                f.expires_hours.trim().parse().map_err(|_| AppError::BadRequest(Msg::key("adm-err-link-hours")))?;
            if !(1..=24).contains(&hours) {
                return Err(AppError::BadRequest(Msg::key("adm-err-link-hours")));
            }
            let email = f.email.as_deref() == Some("on");
            let issued = admin_mfa::recovery_link(state, admin, user, &f.reason, hours * 3600, email).await?;
            let key = if email { "adm-note-recovery-link-sent" } else { "adm-note-recovery-link" };
            return Ok(Some(View {
                notice: Some(i18n::t1(key, "date", when(issued.expires_at))),
                recovery_url: Some(issued.url.expose().to_owned()),
                ..View::default()
            }));
        }
        "invite" => {
            let days = invitation_days(&f.expires_days)?;
            let email = f.email.as_deref() == Some("on");
            let issued = users::reinvite(state, admin, user, days, email).await?;
            return Ok(Some(invitation_view(&issued, email)));
        }
        "revoke-device" => users::revoke_device(state, admin, user, &f.item).await?,
        "end-session" => {
            users::end_sessions(state, admin, user, Some(&f.item)).await?;
        }
        "end-sessions" => {
            confirmed(f)?;
            users::end_sessions(state, admin, user, None).await?;
        }
        "add-group" => {
            users::add_to_group(state, admin, &user.username, f.group.trim()).await?;
        }
        "remove-group" => {
            users::remove_from_group(state, admin, &user.username, &f.group).await?;
        }
        "disable" => {
            confirmed(f)?;
            if admin.actor_id() == Some(user.id.as_str()) {
                return Err(AppError::BadRequest(Msg::key("adm-err-disable-self")));
            }
            users::set_disabled(state, admin, &user.username, true).await?;
        }
        "enable" => users::set_disabled(state, admin, &user.username, false).await?,
        "reset-mfa" => {
            confirmed(f)?;
            users::reset_mfa(state, admin, &user.username).await?;
        }
        "unlock" => {
            users::unlock(state, admin, user).await?;
        }
        _ => return Err(AppError::NotFound),
    }
    Ok(None)
}

fn invitation_days(text: &str) -> AppResult<i64> {
    let max = users::INVITATION_MAX_DAYS;
    text.trim()
        .parse()
        .ok()
        .filter(|d| (1..=max).contains(d))
        .ok_or_else(|| AppError::BadRequest(Msg::key("adm-err-invite-days").with("max", max)))
}

fn invitation_view(issued: &crate::mfa::recovery::Issued, emailed: bool) -> View {
    let key = if emailed { "adm-note-invitation-sent" } else { "adm-note-invitation" };
    View {
        notice: Some(i18n::t1(key, "date", when(issued.expires_at))),
        invitation_url: Some(issued.url.expose().to_owned()),
        ..View::default()
    }
}

#[derive(Deserialize, Default)]
pub struct NewUserForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    display_name: String,
    /// Group names, separated by commas or spaces.
    #[serde(default)]
    groups: String,
    #[serde(default)]
    expires_days: String,
    email_invitation: Option<String>,
}

/// `POST /admin/users`: a new account and its invitation link (shown once, and emailed if
/// asked). The user chooses their own password; nobody else ever knows it.
pub async fn create(
    State(state): State<AppState>,
    jar: CookieJar,
    AdminPage(admin): AdminPage,
    form: Result<CsrfForm<NewUserForm>, CsrfRejection<NewUserForm>>,
) -> PageResult<Response> {
    let f = match form {
        Ok(CsrfForm(f)) => f,
        Err(r) => {
            let f = r.expired_form()?;
            return Ok(list_page(
                &state,
                jar,
                ListQuery::default(),
                Some(form_expired().as_str()),
                &f,
                StatusCode::FORBIDDEN,
            )
            .await?);
        }
    };
    let groups: Vec<String> =
        f.groups.split(|c: char| c == ',' || c.is_whitespace()).filter(|g| !g.is_empty()).map(str::to_owned).collect();
    let email = Some(f.email.trim()).filter(|e| !e.is_empty());
    let spec = users::UserSpec {
        username: f.username.trim(),
        password: "",
        email,
        email_verified: false,
        display_name: Some(f.display_name.trim()).filter(|n| !n.is_empty()),
        is_admin: false,
        groups: &groups,
    };
    let send = f.email_invitation.is_some();
    let result = match invitation_days(&f.expires_days) {
        Ok(days) => users::invite(&state, &admin, &spec, days, send).await,
        Err(e) => Err(e),
    };
    match result {
        Ok((user, issued)) => {
            Ok(page(&state, jar, &admin, &user, invitation_view(&issued, send), StatusCode::CREATED).await?)
        }
        Err(e) if e.http_status() < 500 => {
            let (msg, status) = (page_message(&e), status_of(&e));
            Ok(list_page(&state, jar, ListQuery::default(), Some(&msg), &f, status).await?)
        }
        Err(e) => Err(e.into()),
    }
}
