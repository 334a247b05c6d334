//! Pages for people: sign-in, the start page and sign-out.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::client::ClientInfo;
use super::cookies;
use super::error::{PageResult, message_page, page_message, render};
use super::guards::{CsrfForm, CsrfRejection, NoFields};
use crate::error::AppError;
use crate::login::{self, AuthorizeNext, Next};
use crate::state::AppState;
use crate::web::LoginPage;
use crate::web::i18n;

#[derive(Deserialize)]
pub struct LoginQuery {
    request: Option<String>,
}

pub async fn login_form(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(q): Query<LoginQuery>,
) -> PageResult<Response> {
    let (app_name, hint) = match &q.request {
        Some(id) => match login::pending_request(&state, id).await? {
            Some((req, name)) => (Some(name), req.wants.login_hint),
            None => return Ok(expired_request()),
        },
        None => (None, None),
    };
    Ok(login_page(&state, jar, q.request.as_deref(), app_name.as_deref(), hint.as_deref()))
}

/// The empty sign-in form (with a fresh CSRF cookie), for a waiting request or none.
pub fn login_page(
    state: &AppState,
    jar: CookieJar,
    request: Option<&str>,
    app_name: Option<&str>,
    hint: Option<&str>,
) -> Response {
    let (jar, csrf) = cookies::csrf_token(state, jar);
    let page = LoginPage { csrf: &csrf, request, app_name, username: hint.unwrap_or(""), error: None };
    (jar, render(StatusCode::OK, &page)).into_response()
}

pub fn expired_request() -> Response {
    message_page(StatusCode::BAD_REQUEST, &i18n::t("msg-request-expired-title"), &i18n::t("msg-request-expired"), None)
}

#[derive(Deserialize)]
pub struct LoginForm {
    request: Option<String>,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

pub async fn login_submit(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientInfo(client): ClientInfo,
    form: Result<CsrfForm<LoginForm>, CsrfRejection<LoginForm>>,
) -> PageResult<Response> {
    let f = match form {
        Ok(CsrfForm(f)) => f,
        Err(r) => {
            let f = r.expired_form()?;
            let msg = i18n::t("msg-form-expired-login");
            return Ok(login_again(&state, jar, &f, StatusCode::FORBIDDEN, &msg).await?);
        }
    };
    match login::password_login(&state, f.username.trim(), &f.password, f.request.as_deref(), &client).await {
        Ok(Some(next)) => Ok(respond(&state, jar, next)),
        Ok(None) => {
            let msg = page_message(&AppError::InvalidCredentials);
            Ok(login_again(&state, jar, &f, StatusCode::UNAUTHORIZED, &msg).await?)
        }
        Err(e @ AppError::LockedOut { .. }) => {
            let msg = page_message(&e);
            Ok(login_again(&state, jar, &f, StatusCode::TOO_MANY_REQUESTS, &msg).await?)
        }
        Err(e) => Err(e.into()),
    }
}

/// Turns where a login goes next into a browser response: the session cookie and a redirect,
/// the MFA page, or an error.
pub fn respond(state: &AppState, jar: CookieJar, next: Next) -> Response {
    respond_to(state, jar, next, "/")
}

/// Where the browser goes after a request of either protocol was taken in (`login::begin`).
pub fn respond_begun(state: &AppState, jar: CookieJar, next: AuthorizeNext) -> Response {
    match next {
        AuthorizeNext::Redirect(url) => Redirect::to(&url).into_response(),
        AuthorizeNext::Login { request_id } => Redirect::to(&format!("/login?request={request_id}")).into_response(),
        AuthorizeNext::Mfa(p) => (cookies::set_mfa(state, jar, p.token), Redirect::to("/login/mfa")).into_response(),
        AuthorizeNext::Expired => expired_request(),
    }
}

/// `respond`, going to `default` when the login was not for an application.
pub fn respond_to(state: &AppState, jar: CookieJar, next: Next, default: &str) -> Response {
    match next {
        Next::Done { new_session_token, redirect, .. } => {
            let jar = match new_session_token {
                Some(t) => cookies::set_session(state, jar, t),
                None => jar,
            };
            let jar = cookies::clear_mfa(state, jar);
            (jar, Redirect::to(redirect.as_deref().unwrap_or(default))).into_response()
        }
        Next::Mfa(p) => (cookies::set_mfa(state, jar, p.token), Redirect::to("/login/mfa")).into_response(),
        Next::Denied { redirect: Some(url), .. } => {
            (cookies::clear_mfa(state, jar), Redirect::to(&url)).into_response()
        }
        Next::Denied { redirect: None, reason } => {
            message_page(StatusCode::FORBIDDEN, &i18n::t("msg-access-denied"), &reason, None)
        }
        Next::RequestExpired => expired_request(),
    }
}

/// The login form again, with a message, still naming the app that asked.
async fn login_again(
    state: &AppState,
    jar: CookieJar,
    f: &LoginForm,
    status: StatusCode,
    msg: &str,
) -> crate::error::AppResult<Response> {
    let app_name = match &f.request {
        Some(id) => login::pending_request(state, id).await?.map(|(_, name)| name),
        None => None,
    };
    let (jar, csrf) = cookies::csrf_token(state, jar);
    let page = LoginPage {
        csrf: &csrf,
        request: f.request.as_deref(),
        app_name: app_name.as_deref(),
        username: &f.username,
        error: Some(msg),
    };
    Ok((jar, render(status, &page)).into_response())
}

/// The start page: the profile when signed in, else the sign-in form.
pub async fn home(State(state): State<AppState>, jar: CookieJar) -> PageResult<Response> {
    let token = cookies::session_token(&state, &jar);
    Ok(match login::current_session(&state, token.as_deref()).await? {
        Some(_) => Redirect::to("/profile").into_response(),
        None => Redirect::to("/login").into_response(),
    })
}

pub async fn logout(
    State(state): State<AppState>,
    jar: CookieJar,
    form: Result<CsrfForm<NoFields>, CsrfRejection<NoFields>>,
) -> PageResult<Response> {
    if let Err(r) = form {
        r.expired_form()?;
        return Ok(message_page(
            StatusCode::FORBIDDEN,
            &i18n::t("msg-not-signed-out"),
            &i18n::t("msg-form-expired"),
            Some(("/", &i18n::t("back"))),
        ));
    }
    let token = cookies::session_token(&state, &jar);
    if let Some((session, _)) = login::current_session(&state, token.as_deref()).await? {
        login::end_session(&state, &session.id).await?;
    }
    let jar = cookies::clear_session(&state, jar);
    Ok((jar, signed_out_page()).into_response())
}

pub fn signed_out_page() -> Response {
    message_page(
        StatusCode::OK,
        &i18n::t("msg-signed-out-title"),
        &i18n::t1("msg-signed-out", "brand", crate::web::brand::name()),
        Some(("/login", &i18n::t("msg-sign-in-again"))),
    )
}
