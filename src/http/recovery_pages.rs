//! The pages of the way back in: "Lost access?" and "Forgot password?" (asking for a link by
//! email), and the pages the links open. A link opens with a GET that only shows a form — mail
//! scanners that fetch links use nothing up — and is used by the form's POST.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::client::ClientInfo;
use super::cookies;
use super::error::{PageResult, message_page, page_message, render, status_of};
use super::guards::CsrfForm;
use crate::error::{AppError, AppResult, Msg};
use crate::login::mfa as flow;
use crate::login::password;
use crate::mfa::recovery;
use crate::state::AppState;
use crate::store::links::LinkPurpose;
use crate::web::AccountLinkPage;
use crate::web::i18n;

fn name(purpose: LinkPurpose) -> &'static str {
    match purpose {
        LinkPurpose::MfaRecovery => "recover",
        LinkPurpose::PasswordReset => "reset",
        LinkPurpose::Invitation => "invite",
    }
}

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

/// The page for `purpose`: the link's form when `token` is live, "not valid" when it is not,
/// and the form asking for a link without one.
async fn page(
    state: &AppState,
    jar: CookieJar,
    purpose: LinkPurpose,
    token: Option<&str>,
    error: Option<&str>,
    status: StatusCode,
) -> AppResult<Response> {
    let (jar, csrf) = cookies::csrf_token(state, jar);
    let (account, needs_password) = match token {
        Some(t) => match recovery::peek(state, t, purpose).await {
            Ok((_, user)) => (Some(user.username.clone()), user.password_hash.is_some()),
            Err(AppError::InvalidLink) => (None, false),
            Err(e) => return Err(e),
        },
        None => (None, false),
    };
    let page = AccountLinkPage {
        csrf: &csrf,
        purpose: name(purpose),
        token,
        account,
        needs_password,
        self_service: recovery::self_service(state, purpose).await?,
        error,
    };
    Ok((jar, render(status, &page)).into_response())
}

/// `GET /recover` and `GET /reset-password`.
pub fn show(purpose: LinkPurpose) -> axum::routing::MethodRouter<AppState> {
    axum::routing::get(
        move |State(state): State<AppState>,
              jar: CookieJar,
              q: Result<Query<TokenQuery>, axum::extract::rejection::QueryRejection>| async move {
            let token = q.ok().and_then(|Query(q)| q.token).filter(|t| !t.is_empty() && t.len() <= 128);
            PageResult::Ok(page(&state, jar, purpose, token.as_deref(), None, StatusCode::OK).await?)
        },
    )
}

#[derive(Deserialize)]
pub struct AskForm {
    #[serde(default)]
    email: String,
}

/// The same answer for every accepted request, whoever the address belongs to.
fn sent_page() -> Response {
    message_page(
        StatusCode::OK,
        &i18n::t("msg-check-email-title"),
        &i18n::t("msg-check-email"),
        Some(("/login", &i18n::t("back-to-sign-in"))),
    )
}

/// `POST /recover/ask` and `POST /reset-password/ask`.
pub fn ask(purpose: LinkPurpose) -> axum::routing::MethodRouter<AppState> {
    axum::routing::post(
        move |State(state): State<AppState>,
              jar: CookieJar,
              ClientInfo(client): ClientInfo,
              CsrfForm(f): CsrfForm<AskForm>| async move {
            match recovery::request_link(&state, purpose, &f.email, None, &client).await {
                Ok(()) => PageResult::Ok(sent_page()),
                Err(e) if e.http_status() < 500 => {
                    let status = status_of(&e);
                    let mut resp = page(&state, jar, purpose, None, Some(&page_message(&e)), status).await?;
                    if let AppError::RateLimited { retry_after_seconds, .. } = e {
                        resp.headers_mut().insert(axum::http::header::RETRY_AFTER, retry_after_seconds.into());
                    }
                    Ok(resp)
                }
                Err(e) => Err(e.into()),
            }
        },
    )
}

#[derive(Deserialize)]
pub struct OpenForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    old_factors: String,
}

/// `POST /recover`: the password (when the account has one) and the choice for the old
/// factors; then the recovery session's enrolment page.
pub async fn open(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientInfo(client): ClientInfo,
    CsrfForm(f): CsrfForm<OpenForm>,
) -> PageResult<Response> {
    let keep = f.old_factors == "keep";
    match recovery::open(&state, &f.token, &f.password, keep, &client).await {
        Ok(p) => {
            let jar = cookies::set_mfa(&state, jar, p.token);
            Ok((jar, Redirect::to("/login/mfa")).into_response())
        }
        Err(e) if e.http_status() < 500 => {
            let status = status_of(&e);
            let msg = match e {
                AppError::InvalidCredentials => "That password is not right.".to_owned(),
                e => page_message(&e),
            };
            Ok(page(&state, jar, LinkPurpose::MfaRecovery, Some(&f.token), Some(&msg), status).await?)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

/// `POST /reset-password` (a new password) and `POST /invite` (an invited user's first one):
/// the link is used, and the user then signs in, second step included.
pub fn set_password(purpose: LinkPurpose) -> axum::routing::MethodRouter<AppState> {
    axum::routing::post(
        move |State(state): State<AppState>,
              jar: CookieJar,
              ClientInfo(client): ClientInfo,
              CsrfForm(f): CsrfForm<ResetForm>| async move {
            let result = if f.new_password != f.confirm_password {
                Err(AppError::BadRequest(Msg::key("refuse-passwords-differ")))
            } else if purpose == LinkPurpose::Invitation {
                password::accept_invitation(&state, &f.token, &f.new_password, &client).await
            } else {
                password::reset(&state, &f.token, &f.new_password, &client).await
            };
            match result {
                Ok(user) if purpose == LinkPurpose::Invitation => PageResult::Ok(message_page(
                    StatusCode::OK,
                    &i18n::t("link-invite-title"),
                    &i18n::t1("msg-password-set", "username", &user.username),
                    Some(("/login", &i18n::t("sign-in-link"))),
                )),
                Ok(_) => Ok(message_page(
                    StatusCode::OK,
                    &i18n::t("msg-password-changed-title"),
                    &i18n::t("msg-password-changed"),
                    Some(("/login", &i18n::t("sign-in-link"))),
                )),
                Err(e) if e.http_status() < 500 => {
                    let status = status_of(&e);
                    Ok(page(&state, jar, purpose, Some(&f.token), Some(&page_message(&e)), status).await?)
                }
                Err(e) => Err(e.into()),
            }
        },
    )
}

/// `POST /login/mfa/recovery`, from the MFA page: a recovery link to the verified address of
/// the user signing in, continuing this sign-in once they are back.
pub async fn from_mfa_page(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientInfo(client): ClientInfo,
    CsrfForm(_): CsrfForm<super::guards::NoFields>,
) -> PageResult<Response> {
    let Some(token) = cookies::mfa_token(&state, &jar) else {
        return Ok(Redirect::to("/recover").into_response());
    };
    let (txn, user) = match flow::find(&state, &token).await {
        Ok(t) => t,
        Err(AppError::MfaStepExpired) => return Ok(Redirect::to("/recover").into_response()),
        Err(e) => return Err(e.into()),
    };
    match recovery::request_for_user(&state, &user, txn.request_id.as_deref(), &client).await {
        Ok(Some(to)) => Ok(message_page(
            StatusCode::OK,
            &i18n::t("msg-check-email-title"),
            &i18n::t1("msg-recovery-sent", "to", &to),
            None,
        )),
        Ok(None) => Ok(message_page(
            StatusCode::OK,
            &i18n::t("msg-no-verified-email-title"),
            &i18n::t("msg-no-verified-email"),
            Some(("/login/mfa", &i18n::t("back"))),
        )),
        Err(e) if e.http_status() < 500 => Ok(message_page(
            status_of(&e),
            &i18n::t("msg-no-link-title"),
            &page_message(&e),
            Some(("/login/mfa", &i18n::t("back"))),
        )),
        Err(e) => Err(e.into()),
    }
}
