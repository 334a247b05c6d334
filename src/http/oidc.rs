//! OpenID Connect endpoints: thin handlers over `crate::oidc`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;

use super::client::{ClientAddress, ClientInfo};
use super::error::{PageError, PageResult, message_page, page_message, render};
use super::no_store;
use super::{cookies, forms, pages};
use crate::error::{AppError, AppResult};
use crate::login::{self, AuthorizeNext};
use crate::oidc::authorize::AuthorizeError;
use crate::oidc::{self, Params};
use crate::state::AppState;
use crate::web::LogoutPage;
use crate::web::i18n;

pub async fn discovery(State(state): State<AppState>) -> Response {
    let mut resp = Json(oidc::discovery::metadata(&state)).into_response();
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    resp
}

pub async fn jwks(State(state): State<AppState>) -> Response {
    let mut resp = Json(state.keys().jwks()).into_response();
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    resp
}

/// Query for GET, form body for POST (OpenID Connect Core §3.1.2.1 requires both).
fn request_params(
    method: &Method,
    query: Option<String>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Params, AppError> {
    if method == Method::POST {
        forms::require_form_content_type(headers)?;
        Params::from_urlencoded(body)
    } else {
        Params::from_urlencoded(query.unwrap_or_default().as_bytes())
    }
}

pub async fn authorize(
    State(state): State<AppState>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    jar: CookieJar,
    ClientInfo(client): ClientInfo,
    body: Bytes,
) -> PageResult<Response> {
    // Before the client and redirect URI are known to be good, errors are pages.
    let params = request_params(&method, query, &headers, &body)
        .map_err(|e| PageError(AppError::BadRequest(page_message(&e).into())))?;
    Ok(match oidc::authorize::validate(&state, params).await {
        Ok((req, oidc_client)) => {
            let hint = req.wants.login_hint.clone();
            match login::begin(&state, req, false, &client).await.map_err(PageError)? {
                // The form is the answer itself, for the request just stored (one round trip
                // less than a redirect to `/login?request=`, which shows the same form).
                AuthorizeNext::Login { request_id } => {
                    super::pages::login_page(&state, jar, Some(&request_id), Some(&oidc_client.name), hint.as_deref())
                }
                next => super::pages::respond_begun(&state, jar, next),
            }
        }
        Err(AuthorizeError::Redirect(e)) => Redirect::to(&e.to_url(state.issuer())).into_response(),
        Err(AuthorizeError::Page(msg)) => {
            message_page(StatusCode::BAD_REQUEST, &i18n::t("msg-cannot-sign-in"), &msg, None)
        }
        Err(AuthorizeError::Internal(e)) => return Err(PageError(e)),
    })
}

pub async fn token(
    State(state): State<AppState>,
    ClientAddress(from): ClientAddress,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    forms::require_form_content_type(&headers)?;
    let params = Params::from_urlencoded(&body)?;
    let authorization = forms::header_str(&headers, header::AUTHORIZATION);
    let resp = oidc::token::token(&state, params, authorization, from).await?;
    Ok(no_store(Json(resp)))
}

pub async fn userinfo(State(state): State<AppState>, headers: HeaderMap) -> AppResult<Response> {
    let claims = oidc::token::userinfo(&state, forms::header_str(&headers, header::AUTHORIZATION)).await?;
    Ok(no_store(Json(claims)))
}

pub async fn revoke(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> AppResult<Response> {
    forms::require_form_content_type(&headers)?;
    let params = Params::from_urlencoded(&body)?;
    oidc::token::revoke(&state, params, forms::header_str(&headers, header::AUTHORIZATION)).await?;
    Ok(no_store(StatusCode::OK))
}

pub async fn introspect(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> AppResult<Response> {
    forms::require_form_content_type(&headers)?;
    let params = Params::from_urlencoded(&body)?;
    let v = oidc::token::introspect(&state, params, forms::header_str(&headers, header::AUTHORIZATION)).await?;
    Ok(no_store(Json(v)))
}

/// RP-initiated logout. A GET whose `id_token_hint` names the current session signs out at
/// once; anything else asks the user to confirm with a CSRF-protected form.
pub async fn logout(
    State(state): State<AppState>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    jar: CookieJar,
    body: Bytes,
) -> PageResult<Response> {
    let mut params = request_params(&method, query, &headers, &body)
        .map_err(|e| PageError(AppError::BadRequest(page_message(&e).into())))?;
    let confirmed = method == Method::POST && params.take("confirm").as_deref() == Some("yes");
    let csrf = params.take("csrf");
    let req = match oidc::logout::validate(&state, params).await? {
        Ok(r) => r,
        Err(msg) => return Ok(message_page(StatusCode::BAD_REQUEST, &i18n::t("msg-cannot-sign-out"), &msg, None)),
    };
    let token = cookies::session_token(&state, &jar);
    let session = login::current_session(&state, token.as_deref()).await?;
    let hinted_current = matches!((&session, &req.hinted_sid), (Some((s, _)), Some(sid)) if &s.id == sid);
    if confirmed && !cookies::verify_csrf(&state, &jar, csrf.as_deref()) {
        return Ok(message_page(
            StatusCode::FORBIDDEN,
            &i18n::t("msg-not-signed-out"),
            &i18n::t("msg-form-expired"),
            None,
        ));
    }
    if session.is_some() && !confirmed && !hinted_current {
        let (jar, csrf) = cookies::csrf_token(&state, jar);
        let page = LogoutPage {
            csrf: &csrf,
            app_name: req.client_name.as_deref(),
            id_token_hint: req.id_token_hint.as_deref(),
            client_id: req.client_id.as_deref(),
            post_logout_redirect_uri: req.post_logout_redirect_uri.as_deref(),
            state: req.state.as_deref(),
        };
        return Ok((jar, render(StatusCode::OK, &page)).into_response());
    }
    if let Some((s, _)) = &session {
        login::end_session(&state, &s.id).await?;
    }
    let jar = cookies::clear_session(&state, jar);
    Ok(match req.redirect {
        Some(url) => (jar, Redirect::to(&url)).into_response(),
        None => (jar, pages::signed_out_page()).into_response(),
    })
}
