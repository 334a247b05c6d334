//! The browser side of the MFA step: the challenge page, enrolment, and the "trust this
//! device?" prompt. The MFA transaction travels in a short-lived cookie, never in a URL.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, post};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::client::ClientInfo;
use super::error::{PageResult, message_page, page_message, render, status_of};
use super::guards::{CsrfForm, CsrfRejection, PageScriptCall, form_expired};
use super::{cookies, forms, pages};
use crate::error::{AppError, AppResult};
use crate::login::mfa::{self as flow, Progress, Proof, TrustAnswer};
use crate::login::{self, Stage};
use crate::mfa::policy::{Factor, Policy};
use crate::state::AppState;
use crate::store;
use crate::store::mfa_transactions::TxnStage;
use crate::web::i18n;
use crate::web::{MfaChallengePage, MfaEnrollPage, TotpSetup, TrustDevicePage};

fn no_transaction() -> Response {
    message_page(
        StatusCode::BAD_REQUEST,
        &i18n::t("msg-step-expired-title"),
        &i18n::t("msg-step-expired"),
        Some(("/login", &i18n::t("sign-in-link"))),
    )
}

async fn app_name(state: &AppState, app_id: Option<&str>) -> AppResult<Option<String>> {
    Ok(match app_id {
        Some(id) => store::apps::find(&state.db, id).await?.map(|a| a.name),
        None => None,
    })
}

/// The page for the transaction's current stage.
pub async fn show(State(state): State<AppState>, jar: CookieJar) -> PageResult<Response> {
    let Some(token) = cookies::mfa_token(&state, &jar) else { return Ok(no_transaction()) };
    Ok(stage_page(&state, jar, &token, None, StatusCode::OK).await?)
}

/// What the page says above its forms: a problem, or (after a code was sent) where it went.
#[derive(Clone, Copy)]
enum Say<'a> {
    Error(&'a str),
    Notice(&'a str),
}

async fn stage_page(
    state: &AppState,
    jar: CookieJar,
    token: &str,
    say: Option<Say<'_>>,
    status: StatusCode,
) -> AppResult<Response> {
    let error = match say {
        Some(Say::Error(e)) => Some(e),
        _ => None,
    };
    let notice = match say {
        Some(Say::Notice(n)) => Some(n),
        _ => None,
    };
    let (txn, user) = match flow::find(state, token).await {
        Ok(t) => t,
        Err(AppError::MfaStepExpired) => return Ok((cookies::clear_mfa(state, jar), no_transaction()).into_response()),
        Err(e) => return Err(e),
    };
    if txn.stage == TxnStage::Done {
        // Finished (it lingers only to hand out its trust-device token): nothing to answer.
        return Ok((cookies::clear_mfa(state, jar), no_transaction()).into_response());
    }
    let pending = flow::pending(token, &txn);
    let app = app_name(state, txn.app_id.as_deref()).await?;
    let (jar, csrf) = cookies::csrf_token(state, jar);
    let page = match pending.stage {
        Stage::Challenge => {
            let sms_to = code_destination(state, &user.id, &pending.challenge, Factor::Sms).await?;
            let email_to = code_destination(state, &user.id, &pending.challenge, Factor::Email).await?;
            let primary = store::oob::primary(&state.db, &user.id).await?;
            let backup = store::factors::backup_code_status(&state.db, &user.id).await?;
            let recovery_by_email =
                crate::mfa::recovery::self_service(state, store::links::LinkPurpose::MfaRecovery).await?;
            let (now, limits) = (state.now(), &state.config.limits);
            let key = crate::mfa::limits::mfa_key(&user.id);
            let locked_for = store::audit::locked_for(&state.db, &key, now).await?;
            let attempts_left = match locked_for {
                Some(_) => None,
                None => store::audit::failures_in_window(&state.db, &key, now, limits.window_seconds)
                    .await?
                    .filter(|n| *n > 0)
                    .map(|n| (limits.mfa_failures_per_account - n).max(0)),
            };
            render(
                status,
                &MfaChallengePage {
                    csrf: &csrf,
                    username: &user.username,
                    first_sign_in: txn.session_id.is_none(),
                    app_name: app.as_deref(),
                    error,
                    notice,
                    totp: pending.challenge.contains(&Factor::Totp),
                    passkey: pending.challenge.contains(&Factor::Passkey),
                    backup: pending.challenge.contains(&Factor::BackupCode),
                    codes_first: primary.is_some_and(Factor::is_out_of_band) || notice.is_some(),
                    sms_to: sms_to.as_deref(),
                    email_to: email_to.as_deref(),
                    enroll_next: !pending.enroll.is_empty(),
                    backup_low: Some(backup.remaining)
                        .filter(|n| backup.total > 0 && *n < crate::mfa::backup::LOW_WATER),
                    recovery_by_email,
                    locked_for: locked_for.map(crate::web::i18n::duration),
                    attempts_left,
                },
            )
        }
        Stage::Enroll => {
            let totp = if pending.enroll.contains(&Factor::Totp) {
                let (e, _) = flow::begin_totp_enrolment(state, token).await?;
                Some(TotpSetup::new(&e))
            } else {
                None
            };
            // Who asks: the app when its own policy is what requires a second step (the
            // organisation's settings and the user's groups alone would not).
            let requires = |p: Option<Policy>| p.is_some_and(|p| p >= Policy::Any);
            let app_policy = match txn.app_id.as_deref() {
                Some(id) => store::settings::find_app_policy(&state.db, id).await?.and_then(|p| p.mfa_policy),
                None => None,
            };
            let group_minimum =
                store::settings::user_groups(&state.db, &user.id).await?.iter().filter_map(|g| g.1).max();
            let required_by_app = requires(app_policy) && !requires(group_minimum);
            let deadline = user.mfa_enroll_deadline.map(|d| {
                cookie::time::OffsetDateTime::from_unix_timestamp(d).map(|t| t.date().to_string()).unwrap_or_default()
            });
            render(
                status,
                &MfaEnrollPage {
                    csrf: &csrf,
                    username: &user.username,
                    first_sign_in: txn.session_id.is_none(),
                    app_name: app.as_deref(),
                    error,
                    notice,
                    totp,
                    passkey: pending.enroll.contains(&Factor::Passkey),
                    sms: pending.enroll.contains(&Factor::Sms),
                    email_to: user
                        .email
                        .as_deref()
                        .filter(|e| !e.is_empty() && pending.enroll.contains(&Factor::Email))
                        .map(crate::delivery::mask_email),
                    can_postpone: pending.can_postpone,
                    deadline,
                    recovery: txn.recovery.map(|r| r.as_str()),
                    required_by_app,
                },
            )
        }
    };
    Ok((jar, page).into_response())
}

/// Where a code of `kind` would go, masked, when the challenge offers that factor.
async fn code_destination(
    state: &AppState,
    user_id: &str,
    challenge: &[Factor],
    kind: Factor,
) -> AppResult<Option<String>> {
    if !challenge.contains(&kind) {
        return Ok(None);
    }
    Ok(store::oob::find(&state.db, user_id, kind).await?.map(|f| match kind {
        Factor::Sms => crate::delivery::mask_phone(&f.destination),
        _ => crate::delivery::mask_email(&f.destination),
    }))
}

#[derive(Deserialize)]
pub struct StepForm {
    #[serde(default)]
    code: String,
    /// A WebAuthn credential as JSON, filled in by the page script.
    #[serde(default)]
    credential: String,
    /// The passkey registration ceremony id.
    #[serde(default)]
    ceremony: String,
    /// A name for a new passkey.
    #[serde(default)]
    name: String,
    /// A phone number for text message codes.
    #[serde(default)]
    phone_number: String,
}

type StepFormResult = Result<CsrfForm<StepForm>, CsrfRejection<StepForm>>;

/// Script endpoints of the pages (`/login/mfa/passkey/begin`, `/login/mfa/enroll/passkey/begin`):
/// JSON in and out, the transaction from its cookie, the CSRF token in the body.
fn transaction(state: &AppState, jar: &CookieJar) -> AppResult<crate::crypto::Secret> {
    cookies::mfa_token(state, jar).ok_or(AppError::MfaStepExpired)
}

pub async fn passkey_begin(State(state): State<AppState>, jar: CookieJar, _: PageScriptCall) -> AppResult<Response> {
    let token = transaction(&state, &jar)?;
    let options = flow::begin_passkey(&state, &token).await?;
    Ok(super::no_store(axum::Json(options)))
}

pub async fn enroll_passkey_begin(
    State(state): State<AppState>,
    jar: CookieJar,
    _: PageScriptCall,
) -> AppResult<Response> {
    let token = transaction(&state, &jar)?;
    let (ceremony, options) = flow::begin_passkey_enrolment(&state, &token).await?;
    Ok(forms::registration_options(ceremony, options))
}

/// What a form on the MFA pages submits.
#[derive(Clone, Copy)]
pub enum Action {
    Code(Factor),
    /// Send a sign-in code by SMS or email.
    Send(Factor),
    /// Send a code to set up SMS (to the number in the form) or email codes.
    EnrollSend(Factor),
    /// Confirm that set-up with its code.
    EnrollCode(Factor),
    Passkey,
    EnrollTotp,
    EnrollPasskey,
    Postpone,
}

/// The route for one action: a CSRF-checked form post with the transaction in its cookie.
pub fn post_action(action: Action) -> MethodRouter<AppState> {
    post(move |state, jar, client, form| submit(state, jar, client, form, action))
}

async fn submit(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientInfo(client): ClientInfo,
    form: StepFormResult,
    action: Action,
) -> PageResult<Response> {
    let Some(token) = cookies::mfa_token(&state, &jar) else { return Ok(no_transaction()) };
    let f = match form {
        Ok(CsrfForm(f)) => f,
        Err(r) => {
            r.expired_form()?;
            return Ok(stage_page(&state, jar, &token, Some(Say::Error(&form_expired())), StatusCode::FORBIDDEN).await?);
        }
    };
    let result = match action {
        Action::Code(Factor::Totp) => flow::verify(&state, &token, Proof::Totp(&f.code), &client).await,
        Action::Code(kind @ (Factor::Sms | Factor::Email)) => {
            flow::verify(&state, &token, Proof::SentCode(kind, &f.code), &client).await
        }
        Action::Code(_) => flow::verify(&state, &token, Proof::BackupCode(&f.code), &client).await,
        Action::Passkey => match forms::credential(serde_json::from_str(&f.credential)) {
            Ok(c) => flow::verify(&state, &token, Proof::Passkey(&c), &client).await,
            Err(e) => Err(e),
        },
        Action::EnrollTotp => flow::confirm_totp_enrolment(&state, &token, &f.code, &client).await,
        Action::EnrollPasskey => match forms::credential(serde_json::from_str(&f.credential)) {
            Ok(c) => flow::finish_passkey_enrolment(&state, &token, &f.ceremony, &c, &f.name, &client).await,
            Err(e) => Err(e),
        },
        Action::Postpone => flow::postpone(&state, &token, &client).await,
        Action::EnrollCode(kind) => flow::confirm_oob_enrolment(&state, &token, kind, &f.code, &client).await,
        // Sending a code shows the same page again, saying where it went (or why not).
        Action::Send(kind) => {
            let sent = flow::send_code(&state, &token, kind, &client).await;
            return Ok(sent_page(&state, jar, &token, kind, sent).await?);
        }
        Action::EnrollSend(kind) => {
            let sent = flow::begin_oob_enrolment(&state, &token, kind, Some(&f.phone_number), &client).await;
            return Ok(sent_page(&state, jar, &token, kind, sent.map(|(s, _)| s)).await?);
        }
    };
    let progress = match result {
        Ok(p) => p,
        Err(
            e @ (AppError::InvalidFactor
            | AppError::LockedOut { .. }
            | AppError::BadRequest(_)
            | AppError::Conflict(_)
            | AppError::Forbidden(_)),
        ) => {
            let status = status_of(&e);
            return Ok(stage_page(&state, jar, &token, Some(Say::Error(&page_message(&e))), status).await?);
        }
        Err(AppError::MfaStepExpired) => return Ok((cookies::clear_mfa(&state, jar), no_transaction()).into_response()),
        Err(e) => return Err(e.into()),
    };
    let done = match progress {
        Progress::Enroll(_) => return Ok((jar, Redirect::to("/login/mfa")).into_response()),
        Progress::Completed(done) => done,
    };
    let mut jar = cookies::clear_mfa(&state, jar);
    if let Some(t) = done.new_session_token.clone() {
        jar = cookies::set_session(&state, jar, t);
    }
    if let Some(trust_token) = &done.trust_token {
        let days = store::settings::load(&state.db).await?.trusted_device_duration_days;
        let (jar, csrf) = cookies::csrf_token(&state, jar);
        let page = TrustDevicePage {
            csrf: &csrf,
            trust_token,
            request: done.request_id.as_deref(),
            default_name: &crate::web::device::device_name(client.user_agent.as_deref()),
            days,
            offer_trust: done.trust_offered,
            codes: done.backup_codes.clone(),
        };
        return Ok((jar, render(StatusCode::OK, &page)).into_response());
    }
    let next = flow::continue_login(&state, &done, &client).await?;
    Ok(pages::respond(&state, jar, next))
}

/// The stage page after asking for a code: where it went, or why none was sent.
async fn sent_page(
    state: &AppState,
    jar: CookieJar,
    token: &str,
    kind: Factor,
    sent: AppResult<crate::mfa::oob::Sent>,
) -> AppResult<Response> {
    Ok(match sent {
        Ok(sent) => {
            let key = if kind == Factor::Sms { "mfa-code-texted" } else { "mfa-code-emailed" };
            let notice = i18n::t2(key, "to", &sent.sent_to, "minutes", sent.expires_in / 60);
            stage_page(state, jar, token, Some(Say::Notice(&notice)), StatusCode::OK).await?
        }
        Err(AppError::MfaStepExpired) => (cookies::clear_mfa(state, jar), no_transaction()).into_response(),
        Err(
            e @ (AppError::RateLimited { .. }
            | AppError::LockedOut { .. }
            | AppError::BadRequest(_)
            | AppError::Forbidden(_)),
        ) => {
            let mut resp = stage_page(state, jar, token, Some(Say::Error(&page_message(&e))), status_of(&e)).await?;
            if let AppError::RateLimited { retry_after_seconds, .. } | AppError::LockedOut { retry_after_seconds } = e {
                resp.headers_mut().insert(axum::http::header::RETRY_AFTER, retry_after_seconds.into());
            }
            resp
        }
        Err(e) => return Err(e),
    })
}

/// `POST /login/mfa/cancel` ("Not you?"): this sign-in's MFA step ends, and the login page comes
/// back for the same waiting request.
pub async fn cancel(
    State(state): State<AppState>,
    jar: CookieJar,
    CsrfForm(_): CsrfForm<super::guards::NoFields>,
) -> PageResult<Response> {
    let mut to = "/login".to_owned();
    if let Some(token) = cookies::mfa_token(&state, &jar) {
        let hash = crate::crypto::token_hash(&token);
        if let Some(txn) = store::mfa_transactions::find_live(&state.db, &hash, state.now()).await? {
            store::mfa_transactions::delete(&state.db, &hash).await?;
            if let Some(r) = txn.request_id.filter(|_| txn.session_id.is_none()) {
                to = format!(
                    "/login?request={}",
                    url::form_urlencoded::byte_serialize(r.as_bytes()).collect::<String>()
                );
            }
        }
    }
    Ok((cookies::clear_mfa(&state, jar), Redirect::to(&to)).into_response())
}

#[derive(Deserialize)]
pub struct TrustForm {
    trust_token: Option<String>,
    request: Option<String>,
    #[serde(default)]
    name: String,
    trust: Option<String>,
}

pub async fn trust(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientInfo(client): ClientInfo,
    form: Result<CsrfForm<TrustForm>, CsrfRejection<TrustForm>>,
) -> PageResult<Response> {
    let f = match form {
        Ok(CsrfForm(f)) => f,
        Err(r) => {
            r.expired_form()?;
            return Ok(message_page(
                StatusCode::FORBIDDEN,
                &i18n::t("msg-form-expired-title"),
                &i18n::t("msg-form-expired-signin"),
                None,
            ));
        }
    };
    let Some((session, user)) = login::current_session(&state, client.session_token.as_deref()).await? else {
        return Ok(Redirect::to("/login").into_response());
    };
    let token = f.trust_token.as_deref().unwrap_or_default();
    let answer = if f.trust.as_deref() == Some("yes") { TrustAnswer::Yes { name: &f.name } } else { TrustAnswer::No };
    let (trusted, next) =
        flow::answer_trust(&state, &session, &user, token, answer, f.request.as_deref(), &client).await?;
    let jar = match trusted {
        Some((device_token, device)) => cookies::set_device(&state, jar, device_token, device.expires_at),
        None => jar,
    };
    Ok(pages::respond(&state, jar, next))
}
