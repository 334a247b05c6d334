//! The profile page (`/profile`): a signed-in user's authenticator app, passkeys, backup
//! codes and trusted devices. Every change is a CSRF-protected form post that answers with a
//! redirect (or, for a set-up step or new backup codes, the page itself); the passkey
//! ceremony is the one part that needs the page script.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, post};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::client::ClientInfo;
use super::error::{PageResult, page_message, render, status_of};
use super::guards::{CsrfForm, CsrfRejection, FreshlyVerified, PageScriptCall, form_expired};
use super::notice::{Done, Notice};
use super::{cookies, forms, pages};
use crate::error::{AppError, AppResult, Msg};
use crate::login::{self, Client, Next};
use crate::mfa::manage::{self, Fresh};
use crate::mfa::policy::Factor;
use crate::state::AppState;
use crate::store;
use crate::store::sessions::Session;
use crate::store::users::User;
use crate::web::device::device_name;
use crate::web::{AccountSessionRow, DeviceRow, PasskeyRow, ProfilePage, SentCodeRow, SignInRow, TotpSetup, when};

/// What one rendering of the page adds to the stored state.
#[derive(Default)]
struct View {
    notice: Option<String>,
    error: Option<String>,
    totp_setup: Option<TotpSetup>,
    new_codes: Option<Vec<String>>,
    /// A set-up code was sent: its kind and the masked destination.
    code_sent: Option<(Factor, String)>,
}

async fn signed_in(state: &AppState, client: &Client) -> AppResult<Option<(Session, User)>> {
    login::current_session(state, client.session_token.as_deref()).await
}

pub async fn show(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientInfo(client): ClientInfo,
    done: Done,
) -> PageResult<Response> {
    let Some((session, user)) = signed_in(&state, &client).await? else {
        return Ok(Redirect::to("/login").into_response());
    };
    let view = View { notice: done.localized(), ..Default::default() };
    Ok(page(&state, jar, &client, &session, &user, view, StatusCode::OK).await?)
}

async fn page(
    state: &AppState,
    jar: CookieJar,
    client: &Client,
    session: &Session,
    user: &User,
    view: View,
    status: StatusCode,
) -> AppResult<Response> {
    let o = manage::overview(state, session, user, client.device_token.as_deref()).await?;
    let (jar, csrf) = cookies::csrf_token(state, jar);
    let passkeys = o
        .passkeys
        .into_iter()
        .map(|p| PasskeyRow {
            id: p.id,
            name: p.name,
            created: when(p.created_at),
            last_used: p.last_used_at.map(when),
        })
        .collect();
    let devices = o
        .devices
        .into_iter()
        .map(|d| DeviceRow {
            current: o.this_device.as_deref() == Some(d.id.as_str()),
            id: d.id,
            name: d.name,
            last_seen: when(d.last_seen_at),
            expires: when(d.expires_at),
        })
        .collect();
    let now = state.now();
    let sessions = store::sessions::list_for_user(&state.db, &user.id, now)
        .await?
        .into_iter()
        .map(|s| AccountSessionRow {
            current: s.id == session.id,
            device: device_name(s.user_agent.as_deref()),
            ip: s.ip.unwrap_or_default(),
            started: when(s.created_at),
            last_seen: when(s.last_seen_at),
            id: s.id,
        })
        .collect();
    let apps = store::apps::list(&state.db).await?;
    let history = store::audit::sign_ins(&state.db, &user.id, 10)
        .await?
        .into_iter()
        .map(|e| SignInRow {
            at: when(e.at),
            what: match e.event.as_str() {
                "login.success" => "history-signed-in",
                "login.failure" => "history-wrong-password",
                "mfa.failed" => "history-mfa-failed",
                _ => "history-locked",
            },
            ok: e.event == "login.success",
            app: e.app_id.and_then(|id| apps.iter().find(|a| a.id == id).map(|a| a.name.clone())).unwrap_or_default(),
            ip: e.ip.unwrap_or_default(),
        })
        .collect();
    let p = ProfilePage {
        csrf: &csrf,
        username: &user.username,
        is_admin: user.is_admin,
        notice: view.notice.as_deref(),
        error: view.error.as_deref(),
        fresh: o.fresh,
        has_factor: o.has_factor,
        totp_allowed: o.allowed.contains(&Factor::Totp),
        totp_enabled: o.totp_enabled,
        totp_setup: view.totp_setup,
        passkey_allowed: o.allowed.contains(&Factor::Passkey),
        passkeys,
        backup_enabled: o.backup_enabled,
        backup_remaining: o.backup.remaining,
        backup_total: o.backup.total,
        backup_generated: o.backup.generated_at.map(when),
        backup_low: o.backup.total > 0 && o.backup.remaining < crate::mfa::backup::LOW_WATER,
        new_codes: view.new_codes,
        devices,
        sent_codes: sent_code_rows(state, user, &o.allowed, view.code_sent.as_ref()).await?,
        primary: crate::store::oob::primary(&state.db, &user.id).await?.map(Factor::as_str),
        has_password: user.password_hash.is_some(),
        enroll_deadline: user.mfa_enroll_deadline.filter(|_| !o.has_factor).map(when),
        sessions,
        history,
    };
    Ok((jar, render(status, &p)).into_response())
}

/// The SMS and email rows: set up, may be set up, or waiting for the code just sent.
async fn sent_code_rows(
    state: &AppState,
    user: &User,
    allowed: &[Factor],
    code_sent: Option<&(Factor, String)>,
) -> AppResult<Vec<SentCodeRow>> {
    use crate::delivery::{mask_email, mask_phone};
    let factors = crate::store::oob::list(&state.db, &user.id).await?;
    let mut rows = Vec::new();
    for (kind, heading) in [(Factor::Sms, "Text message codes"), (Factor::Email, "Email codes")] {
        let factor = factors.iter().find(|f| f.kind() == kind).map(|f| {
            let masked = if kind == Factor::Sms { mask_phone(&f.destination) } else { mask_email(&f.destination) };
            (f.id.clone(), masked, f.last_used_at.map(when))
        });
        let allowed = allowed.contains(&kind);
        if factor.is_none() && !allowed {
            continue;
        }
        rows.push(SentCodeRow {
            kind: kind.as_str(),
            heading,
            factor,
            allowed,
            pending: code_sent.filter(|(k, _)| *k == kind).map(|(_, to)| to.clone()),
            account_email: user.email.as_deref().filter(|e| !e.is_empty()).map(mask_email),
        });
    }
    Ok(rows)
}

type ProfileFormResult = Result<CsrfForm<ProfileForm>, CsrfRejection<ProfileForm>>;

#[derive(Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    ceremony: String,
    #[serde(default)]
    credential: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
    /// A phone number for text message codes.
    #[serde(default)]
    phone_number: String,
    /// The passkey or device named in the path, for the actions on one item.
    #[serde(skip)]
    item: String,
}

/// A change the page makes; `PasskeyRename`, `PasskeyRemove` and `DeviceRevoke` name their
/// item in the path (`{id}`).
#[derive(Clone, Copy)]
pub enum Action {
    Verify,
    TotpSetup,
    TotpConfirm,
    TotpRemove,
    PasskeyAdd,
    PasskeyRename,
    PasskeyRemove,
    BackupCodes,
    DeviceRevoke,
    /// Send a code to set up SMS or email codes.
    CodesSetup(Factor),
    /// Confirm that set-up with the code.
    CodesConfirm(Factor),
    /// Remove an SMS or email factor (`{id}`).
    CodesRemove,
    /// Offer this factor (`{id}`) first on the sign-in page.
    MakePrimary,
    /// Change the password (the current one, and a fresh second factor).
    PasswordChange,
    /// Sign out one other session (`{id}`).
    SessionEnd,
    /// Sign out every session but this one.
    SessionsEndOthers,
}

/// The route for one action: a CSRF-checked form post from a signed-in browser.
pub fn post_action(action: Action) -> MethodRouter<AppState> {
    post(move |state, jar, client, id: Option<Path<String>>, form| act(state, jar, client, id, form, action))
}

/// The outcome of an action: back to the page with a notice, the page with something to
/// show once, or another response (the MFA step).
enum Outcome {
    Done(Notice),
    Show(View),
    Respond(Response),
}

async fn act(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientInfo(client): ClientInfo,
    id: Option<Path<String>>,
    form: ProfileFormResult,
    action: Action,
) -> PageResult<Response> {
    let Some((session, user)) = signed_in(&state, &client).await? else {
        return Ok(Redirect::to("/login").into_response());
    };
    let f = match form {
        Ok(CsrfForm(f)) => f,
        Err(r) => {
            r.expired_form()?;
            let view = View { error: Some(form_expired()), ..Default::default() };
            return Ok(page(&state, jar, &client, &session, &user, view, StatusCode::FORBIDDEN).await?);
        }
    };
    let f = ProfileForm { item: id.map(|Path(id)| id).unwrap_or_default(), ..f };
    let result = run(&state, &jar, &client, &session, &user, &f, action).await;
    match result {
        Ok(Outcome::Done(notice)) => Ok(notice.redirect("/profile").into_response()),
        Ok(Outcome::Show(view)) => Ok(page(&state, jar, &client, &session, &user, view, StatusCode::OK).await?),
        Ok(Outcome::Respond(r)) => Ok(r),
        Err(e) if e.http_status() < 500 => {
            let status = status_of(&e);
            let mut view = View { error: Some(page_message(&e)), ..Default::default() };
            if matches!(e, AppError::InvalidFactor) {
                // A wrong first code: keep the set-up on screen (the same pending secret).
                if let Ok(fresh) = Fresh::check(&state, session.clone(), user.clone()).await {
                    view.totp_setup = manage::begin_totp(&state, &fresh).await.ok().map(setup);
                }
            }
            Ok(page(&state, jar, &client, &session, &user, view, status).await?)
        }
        Err(e) => Err(e.into()),
    }
}

fn setup(e: crate::mfa::totp::Enrolment) -> TotpSetup {
    TotpSetup::new(&e)
}

async fn run(
    state: &AppState,
    jar: &CookieJar,
    client: &Client,
    session: &Session,
    user: &User,
    f: &ProfileForm,
    action: Action,
) -> AppResult<Outcome> {
    let origin = &client.origin;
    let fresh = || Fresh::check(state, session.clone(), user.clone());
    Ok(match action {
        Action::Verify => return verify_again(state, jar, client, session, user, f).await,
        Action::TotpSetup => Outcome::Show(View {
            totp_setup: Some(setup(manage::begin_totp(state, &fresh().await?).await?)),
            ..Default::default()
        }),
        Action::TotpConfirm => {
            let codes = manage::confirm_totp(state, &fresh().await?, &f.code, origin).await?;
            added(Notice::TotpAdded, codes)
        }
        Action::TotpRemove => {
            manage::remove_totp(state, &fresh().await?, origin).await?;
            Outcome::Done(Notice::TotpRemoved)
        }
        Action::PasskeyAdd => {
            let c = forms::credential(serde_json::from_str(&f.credential))?;
            let (_, codes) = manage::finish_passkey(state, &fresh().await?, &f.ceremony, &c, &f.name, origin).await?;
            added(Notice::PasskeyAdded, codes)
        }
        Action::PasskeyRename => {
            manage::rename_passkey(state, user, &f.item, &f.name).await?;
            Outcome::Done(Notice::PasskeyRenamed)
        }
        Action::PasskeyRemove => {
            manage::remove_passkey(state, &fresh().await?, &f.item, origin).await?;
            Outcome::Done(Notice::PasskeyRemoved)
        }
        Action::BackupCodes => Outcome::Show(View {
            new_codes: Some(manage::generate_backup_codes(state, &fresh().await?, origin).await?),
            ..Default::default()
        }),
        Action::DeviceRevoke => {
            manage::revoke_device(state, user, &f.item, origin).await?;
            Outcome::Done(Notice::DeviceRevoked)
        }
        Action::SessionEnd => {
            login::end_own_sessions(state, user, session, login::EndSessions::One(&f.item), origin).await?;
            Outcome::Done(Notice::SessionEnded)
        }
        Action::SessionsEndOthers => {
            login::end_own_sessions(state, user, session, login::EndSessions::Others, origin).await?;
            Outcome::Done(Notice::SessionsEnded)
        }
        Action::CodesSetup(kind) => {
            let (sent, _) = manage::begin_oob(state, &fresh().await?, kind, Some(&f.phone_number), origin).await?;
            Outcome::Show(View { code_sent: Some((kind, sent.sent_to)), ..Default::default() })
        }
        Action::CodesConfirm(kind) => {
            let result = manage::confirm_oob(state, &fresh().await?, kind, &f.code, origin).await;
            if let Err(AppError::InvalidFactor) = result {
                // Keep the code field on screen for another try (or a new code).
                return Ok(Outcome::Show(View {
                    error: Some(page_message(&AppError::InvalidFactor)),
                    code_sent: Some((kind, String::new())),
                    ..Default::default()
                }));
            }
            let (_, codes) = result?;
            added(if kind == Factor::Sms { Notice::SmsAdded } else { Notice::EmailAdded }, codes)
        }
        Action::CodesRemove => {
            manage::remove_oob(state, &fresh().await?, &f.item, origin).await?;
            Outcome::Done(Notice::CodesRemoved)
        }
        Action::MakePrimary => {
            manage::set_primary(state, user, &f.item, origin).await?;
            Outcome::Done(Notice::PrimarySet)
        }
        Action::PasswordChange => {
            if f.new_password != f.confirm_password {
                return Err(AppError::BadRequest(Msg::key("refuse-new-passwords-differ")));
            }
            login::password::change(state, &fresh().await?, &f.password, &f.new_password, client).await?;
            Outcome::Done(Notice::PasswordChanged)
        }
    })
}

/// A factor was added: back to the page with the notice, or — when a first set of backup codes
/// came with it — the page showing them once.
fn added(notice: Notice, codes: Option<Vec<String>>) -> Outcome {
    match codes {
        Some(codes) => {
            Outcome::Show(View { notice: Some(notice.localized()), new_codes: Some(codes), ..Default::default() })
        }
        None => Outcome::Done(notice),
    }
}

/// "Verify it's you": a second-factor step-up for users who have one (through the MFA page,
/// which comes back here), or the password again for users who have none.
async fn verify_again(
    state: &AppState,
    jar: &CookieJar,
    client: &Client,
    session: &Session,
    user: &User,
    f: &ProfileForm,
) -> AppResult<Outcome> {
    let o = manage::overview(state, session, user, None).await?;
    if o.has_factor {
        let p = login::step_up_session(state, session, user, client).await?;
        let jar = cookies::set_mfa(state, jar.clone(), p.token);
        return Ok(Outcome::Respond((jar, Redirect::to("/login/mfa")).into_response()));
    }
    match login::password_login(state, &user.username, &f.password, None, client).await? {
        None => Err(AppError::BadRequest(Msg::key("refuse-password-wrong"))),
        Some(next) => {
            if matches!(next, Next::Done { .. }) {
                // The new session replaces this one.
                login::end_session(state, &session.id).await?;
            }
            Ok(Outcome::Respond(pages::respond_to(state, jar.clone(), next, &Notice::Verified.url("/profile"))))
        }
    }
}

/// Options for adding a passkey (page script; JSON with the CSRF token).
pub async fn passkey_begin(
    State(state): State<AppState>,
    FreshlyVerified { fresh, .. }: FreshlyVerified,
    _: PageScriptCall,
) -> AppResult<Response> {
    let (ceremony, options) = manage::begin_passkey(&state, &fresh).await?;
    Ok(forms::registration_options(ceremony, options))
}
