//! The admin settings page (`/admin/settings`): global MFA settings, group minimums and
//! per-app policies, the same operations as the admin JSON API, as CSRF-protected forms.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, post};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use serde_json::json;

use super::cookies;
use super::error::{PageResult, message_page, page_message, render, status_of};
use super::guards::{AdminPage, CsrfForm, CsrfRejection, SignedIn, form_expired};
use super::notice::{Done, Notice};
use crate::admin::{Admin, settings};
use crate::error::{AppError, AppResult, Msg};
use crate::mfa::policy::{Factor, Policy};
use crate::state::AppState;
use crate::store;
use crate::web::i18n;
use crate::web::{AdminSettingsPage, AppRow, GlobalSettingsView, GroupRow};

/// Every policy with its label in the request's language (`adm-policy` in the catalogues).
pub(crate) fn policies() -> Vec<(&'static str, String)> {
    ["disabled", "optional", "any", "otp", "passkey"].into_iter().map(|p| (p, policy_label(p))).collect()
}

/// A policy's label (`inherit`: as for everyone).
pub(crate) fn policy_label(policy: &str) -> String {
    crate::web::i18n::t1("adm-policy", "p", policy)
}

pub async fn show(State(state): State<AppState>, jar: CookieJar, _: AdminPage, done: Done) -> PageResult<Response> {
    let notice = done.localized();
    Ok(page(&state, jar, notice.as_deref(), None, StatusCode::OK).await?)
}

async fn page(
    state: &AppState,
    jar: CookieJar,
    notice: Option<&str>,
    error: Option<&str>,
    status: StatusCode,
) -> AppResult<Response> {
    let s = store::settings::load(&state.db).await?;
    let groups = store::settings::list_groups(&state.db)
        .await?
        .into_iter()
        .map(|g| GroupRow { name: g.name, policy: g.mfa_policy.unwrap_or_default(), members: g.members })
        .collect();
    let apps = store::settings::list_app_policies(&state.db)
        .await?
        .into_iter()
        .map(|(a, p)| AppRow {
            id: a.id,
            name: a.name,
            protocol: a.protocol.as_str(),
            policy: p.mfa_policy.map_or("inherit", Policy::as_str),
            reauth: p.reauth_interval_minutes,
            trusted: p.allow_trusted_devices,
        })
        .collect();
    let (jar, csrf) = cookies::csrf_token(state, jar);
    let view = GlobalSettingsView {
        mfa_policy: s.mfa_policy.as_str(),
        totp: s.mfa_allowed_factors.contains(&Factor::Totp),
        passkey: s.mfa_allowed_factors.contains(&Factor::Passkey),
        sms: s.mfa_allowed_factors.contains(&Factor::Sms),
        email: s.mfa_allowed_factors.contains(&Factor::Email),
        sms_transport: state.delivery.is_available(crate::delivery::Channel::Sms),
        email_transport: state.delivery.is_available(crate::delivery::Channel::Email),
        self_service_recovery: s.self_service_recovery,
        self_service_password_reset: s.self_service_password_reset,
        alerts: [
            ("alert_factor_changes", s.alert_factor_changes),
            ("alert_new_trusted_device", s.alert_new_trusted_device),
            ("alert_recovery_used", s.alert_recovery_used),
            ("alert_password_changes", s.alert_password_changes),
            ("alert_lockout", s.alert_lockout),
        ],
        enforce: s.mfa_enforce_enrollment,
        grace: s.mfa_enrollment_grace_period,
        reauth: s.mfa_reauth_interval_minutes,
        trusted: s.trusted_device_duration_days,
        backup: s.backup_codes_count,
    };
    let p = AdminSettingsPage { csrf: &csrf, notice, error, policies: policies(), s: view, groups, apps };
    Ok((jar, render(status, &p)).into_response())
}

type AdminFormResult = Result<CsrfForm<AdminForm>, CsrfRejection<AdminForm>>;

#[derive(Deserialize)]
pub struct AdminForm {
    #[serde(default)]
    mfa_policy: String,
    factor_totp: Option<String>,
    factor_passkey: Option<String>,
    factor_sms: Option<String>,
    factor_email: Option<String>,
    self_service_recovery: Option<String>,
    self_service_password_reset: Option<String>,
    alert_factor_changes: Option<String>,
    alert_new_trusted_device: Option<String>,
    alert_recovery_used: Option<String>,
    alert_password_changes: Option<String>,
    alert_lockout: Option<String>,
    mfa_enforce_enrollment: Option<String>,
    #[serde(default)]
    name: String,
    mfa_enrollment_grace_period: Option<String>,
    mfa_reauth_interval_minutes: Option<String>,
    trusted_device_duration_days: Option<String>,
    backup_codes_count: Option<String>,
}

/// What a form on the page saves: the global settings, a group's minimum, or the recovery
/// and alert settings. (An app's policy is saved on its own page, `admin_apps`.)
#[derive(Clone, Copy)]
pub enum Target {
    Global,
    Group,
    /// The way back in and the alerts to users.
    Recovery,
}

/// The route that saves one target: a CSRF-checked form post by an administrator.
pub fn post_save(target: Target) -> MethodRouter<AppState> {
    post(move |state, jar, admin, signed_in, form| save(state, jar, admin, signed_in, form, target))
}

fn number(key: &str, v: &Option<String>) -> AppResult<i64> {
    v.as_deref()
        .unwrap_or_default()
        .trim()
        .parse()
        .map_err(|_| AppError::BadRequest(Msg::key("adm-err-number").with("field", key)))
}

fn policy(v: &str) -> AppResult<Policy> {
    Policy::parse(v).ok_or_else(|| AppError::BadRequest(Msg::key("adm-err-policy").with("value", v)))
}

async fn save(
    State(state): State<AppState>,
    jar: CookieJar,
    AdminPage(admin): AdminPage,
    signed_in: SignedIn,
    form: AdminFormResult,
    target: Target,
) -> PageResult<Response> {
    let f = match form {
        Ok(CsrfForm(f)) => f,
        Err(r) => {
            r.expired_form()?;
            return Ok(page(&state, jar, None, Some(form_expired().as_str()), StatusCode::FORBIDDEN).await?);
        }
    };
    match apply(&state, &admin, &f, target).await {
        Ok(notice) => {
            // The change may put this admin's own account below the new policy: it was saved
            // all the same, and the answer says so instead of a 403 from the next page.
            let warnings = settings::own_account_warnings(&state, &admin).await?;
            let SignedIn { session, user, client } = signed_in;
            let still_admin =
                match Admin::verify(&state, &session, user, client.device_token.as_deref(), client.origin).await {
                    Ok(_) => true,
                    Err(AppError::MfaRequired(_) | AppError::Forbidden(_)) => false,
                    Err(e) => return Err(e.into()),
                };
            if warnings.is_empty() && still_admin {
                return Ok(notice.redirect("/admin/settings").into_response());
            }
            let mut text = notice.localized();
            for w in &warnings {
                text.push(' ');
                text.push_str(&w.localized());
            }
            if !still_admin && warnings.is_empty() {
                text.push(' ');
                text.push_str(&i18n::t("adm-note-session-below-policy"));
            }
            let (title, link) = (i18n::t("adm-saved"), i18n::t("adm-nav-account"));
            Ok(message_page(StatusCode::OK, &title, &text, Some(("/profile", &link))))
        }
        Err(e) if e.http_status() < 500 => {
            let status = status_of(&e);
            Ok(page(&state, jar, None, Some(&page_message(&e)), status).await?)
        }
        Err(e) => Err(e.into()),
    }
}

async fn apply(state: &AppState, admin: &Admin, f: &AdminForm, target: Target) -> AppResult<Notice> {
    match target {
        Target::Global => {
            let mut factors = Vec::new();
            if f.factor_totp.is_some() {
                factors.push("totp");
            }
            if f.factor_passkey.is_some() {
                factors.push("passkey");
            }
            if f.factor_sms.is_some() {
                factors.push("sms");
            }
            if f.factor_email.is_some() {
                factors.push("email");
            }
            let patch = json!({
                "mfa_policy": policy(&f.mfa_policy)?,
                "mfa_allowed_factors": factors,
                "mfa_enforce_enrollment": f.mfa_enforce_enrollment.is_some(),
                "mfa_enrollment_grace_period": number("mfa_enrollment_grace_period", &f.mfa_enrollment_grace_period)?,
                "mfa_reauth_interval_minutes": number("mfa_reauth_interval_minutes", &f.mfa_reauth_interval_minutes)?,
                "trusted_device_duration_days": number("trusted_device_duration_days", &f.trusted_device_duration_days)?,
                "backup_codes_count": number("backup_codes_count", &f.backup_codes_count)?,
            });
            settings::update(state, admin, &patch).await?;
            Ok(Notice::SettingsSaved)
        }
        Target::Recovery => {
            let patch = json!({
                "self_service_recovery": f.self_service_recovery.is_some(),
                "self_service_password_reset": f.self_service_password_reset.is_some(),
                "alert_factor_changes": f.alert_factor_changes.is_some(),
                "alert_new_trusted_device": f.alert_new_trusted_device.is_some(),
                "alert_recovery_used": f.alert_recovery_used.is_some(),
                "alert_password_changes": f.alert_password_changes.is_some(),
                "alert_lockout": f.alert_lockout.is_some(),
            });
            settings::update(state, admin, &patch).await?;
            Ok(Notice::SettingsSaved)
        }
        Target::Group => {
            let p = if f.mfa_policy.is_empty() { None } else { Some(policy(&f.mfa_policy)?) };
            settings::set_group_policy(state, admin, &f.name, p).await?;
            Ok(Notice::GroupSaved)
        }
    }
}
