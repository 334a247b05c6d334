//! Request guards as extractors: a handler names what it needs in its arguments and never
//! checks it by hand — `SignedIn` (a live session), `FreshlyVerified` (recent enough to change
//! factors), `Admin` / `AdminPage` (an administrator the policy lets in now),
//! `SameOriginJson<T>` (a same-origin JSON body), `CsrfForm<T>` (a form echoing the CSRF
//! cookie) and `PageScriptCall` (our page's script, CSRF token in its JSON). The JSON forms
//! reject with the API's error (401/403 JSON); the page forms with what a person should see
//! (the login page, or a page saying what is missing).

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::de::DeserializeOwned;

use super::client::ClientInfo;
use super::error::message_page;
use super::{cookies, forms};
use crate::admin::Admin;
use crate::error::AppError;
use crate::login::{self, Client};
use crate::mfa::manage::Fresh;
use crate::state::AppState;
use crate::store::sessions::Session;
use crate::store::users::User;

/// The caller's live session and active account (the session cookie), with what the request
/// tells about its client.
pub struct SignedIn {
    pub session: Session,
    pub user: User,
    pub client: Client,
}

async fn signed_in(parts: &mut Parts, state: &AppState) -> Result<Option<SignedIn>, AppError> {
    let ClientInfo(client) = ClientInfo::from_request_parts(parts, state).await.unwrap_or_else(|e| match e {});
    Ok(login::current_session(state, client.session_token.as_deref()).await?.map(|(session, user)| SignedIn {
        session,
        user,
        client,
    }))
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        signed_in(parts, state).await?.ok_or(AppError::Unauthorized)
    }
}

/// A signed-in user whose session may change their factors now: a second factor (or, for a
/// user with none, the password) verified recently enough (`manage::Fresh`).
pub struct FreshlyVerified {
    pub fresh: Fresh,
    pub client: Client,
}

impl FromRequestParts<AppState> for FreshlyVerified {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let SignedIn { session, user, client } = SignedIn::from_request_parts(parts, state).await?;
        Ok(FreshlyVerified { fresh: Fresh::check(state, session, user).await?, client })
    }
}

/// The administrator behind the request, checked once per request (`Admin::verify`): by the
/// layer of the `/api/v1/admin` router, which leaves it in the request's extensions, or here
/// when a route outside it asks.
impl FromRequestParts<AppState> for Admin {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if let Some(admin) = parts.extensions.get::<Admin>() {
            return Ok(admin.clone());
        }
        let s = SignedIn::from_request_parts(parts, state).await?;
        let admin = Admin::verify(state, &s.session, s.user, s.client.device_token.as_deref(), s.client.origin).await?;
        parts.extensions.insert(admin.clone());
        Ok(admin)
    }
}

/// The administrator behind a page request; otherwise the login page (not signed in) or a
/// page saying what is missing.
pub struct AdminPage(pub Admin);

impl FromRequestParts<AppState> for AdminPage {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match Admin::from_request_parts(parts, state).await {
            Ok(admin) => Ok(AdminPage(admin)),
            Err(AppError::Unauthorized) => Err(Redirect::to("/login").into_response()),
            Err(e) => Err(admin_refusal(e)),
        }
    }
}

/// What a person sees when they may not administer now.
fn admin_refusal(e: AppError) -> Response {
    match e {
        AppError::MfaRequired(_) => message_page(
            StatusCode::FORBIDDEN,
            "Verify it's you",
            "Changing sign-in settings needs the second step your policy requires. Set it up or verify it on your account page, then come back.",
            Some(("/profile", "Your account")),
        ),
        AppError::Forbidden(_) => message_page(
            StatusCode::FORBIDDEN,
            "Not allowed",
            "Only administrators can change sign-in settings.",
            Some(("/profile", "Your account")),
        ),
        e => super::error::PageError(e).into_response(),
    }
}

/// Checks the administrator once for every route of a router (the `/api/v1/admin` layer)
/// and keeps the answer out of every cache.
pub async fn admin_layer(
    admin: Result<Admin, AppError>,
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let admin = match admin {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    req.extensions_mut().insert(admin);
    let mut resp = next.run(req).await;
    resp.headers_mut().insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    resp
}

/// A JSON body from the issuer's own origin: the cross-site checks of `same_origin` (which
/// the `/api/v1` tree also gets from its layer, so a route mounted elsewhere keeps them),
/// `Content-Type: application/json`, and the body read with the API's error format.
pub struct SameOriginJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for SameOriginJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, AppError> {
        let (headers, body) = same_origin_body(req, state).await?;
        Ok(SameOriginJson(forms::json(&headers, &body)?))
    }
}

/// `SameOriginJson`, for a call whose body is optional: none at all reads as `T::default()`.
pub struct SameOriginJsonOrEmpty<T>(pub T);

impl<T: DeserializeOwned + Default> FromRequest<AppState> for SameOriginJsonOrEmpty<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, AppError> {
        let (headers, body) = same_origin_body(req, state).await?;
        Ok(SameOriginJsonOrEmpty(if body.is_empty() { T::default() } else { forms::json(&headers, &body)? }))
    }
}

/// The headers and body of a request from the issuer's own origin.
async fn same_origin_body(req: Request, state: &AppState) -> Result<(axum::http::HeaderMap, Bytes), AppError> {
    super::same_origin::require(state, req.headers(), req.uri().path())?;
    let headers = req.headers().clone();
    let body = Bytes::from_request(req, state).await.map_err(body_error)?;
    Ok((headers, body))
}

/// A body that could not be read: too large (413), or cut off.
fn body_error(e: axum::extract::rejection::BytesRejection) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::PayloadTooLarge(e.body_text())
    } else {
        AppError::BadRequest(e.body_text().into())
    }
}

/// A call from one of our pages' scripts: a same-origin JSON body whose `csrf` echoes the
/// CSRF cookie (the page put it there).
pub struct PageScriptCall;

impl FromRequest<AppState> for PageScriptCall {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, AppError> {
        let jar = CookieJar::from_headers(req.headers());
        let SameOriginJson(token) = SameOriginJson::<CsrfField>::from_request(req, state).await?;
        if !cookies::verify_csrf(state, &jar, token.csrf.as_deref()) {
            return Err(AppError::Forbidden(crate::error::Msg::key("refuse-page-expired")));
        }
        Ok(PageScriptCall)
    }
}

/// A submitted HTML form whose `csrf` field echoes the browser's CSRF cookie (double
/// submit, `cookies::verify_csrf`). A handler that wants to answer an expired form in its
/// own page takes `Result<CsrfForm<T>, CsrfRejection<T>>`; otherwise the rejection is a
/// page of its own.
pub struct CsrfForm<T>(pub T);

/// What a page says when it answers an expired form itself.
pub fn form_expired() -> String {
    crate::web::i18n::t("msg-form-expired")
}

pub enum CsrfRejection<T> {
    /// The body is not a form of this shape.
    Unreadable(AppError),
    /// The form is readable but its token does not match (expired, or another site's).
    Expired(T),
}

#[derive(serde::Deserialize)]
struct CsrfField {
    csrf: Option<String>,
}

impl<T: DeserializeOwned> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = CsrfRejection<T>;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, CsrfRejection<T>> {
        let jar = CookieJar::from_headers(req.headers());
        let body = Bytes::from_request(req, state).await.map_err(|e| CsrfRejection::Unreadable(body_error(e)))?;
        let form: T = forms::form(&body).map_err(CsrfRejection::Unreadable)?;
        let token: CsrfField = forms::form(&body).map_err(CsrfRejection::Unreadable)?;
        if cookies::verify_csrf(state, &jar, token.csrf.as_deref()) {
            Ok(CsrfForm(form))
        } else {
            Err(CsrfRejection::Expired(form))
        }
    }
}

impl<T> CsrfRejection<T> {
    /// The form of an expired submission, for a handler to answer in its own page; an
    /// unreadable body stays an error.
    pub fn expired_form(self) -> Result<T, super::error::PageError> {
        match self {
            CsrfRejection::Expired(f) => Ok(f),
            CsrfRejection::Unreadable(e) => Err(e.into()),
        }
    }
}

/// A form without fields of its own (a sign-out button): only the CSRF token.
#[derive(serde::Deserialize)]
pub struct NoFields {}

impl<T> IntoResponse for CsrfRejection<T> {
    fn into_response(self) -> Response {
        match self {
            CsrfRejection::Unreadable(e) => super::error::PageError(e).into_response(),
            CsrfRejection::Expired(_) => message_page(
                StatusCode::FORBIDDEN,
                "Form expired",
                "The form expired. Go back, reload the page and try again.",
                None,
            ),
        }
    }
}
