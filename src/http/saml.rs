//! SAML endpoints: thin handlers over `crate::saml`.

use axum::body::Bytes;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;

use super::client::ClientInfo;
use super::error::{PageError, PageResult, message_page, page_message, render};
use super::{forms, pages};
use crate::error::AppResult;
use crate::login;
use crate::saml::request::{self, Binding, Incoming, Message, Refusal};
use crate::state::AppState;
use crate::web::SamlPostPage;

/// The IdP's metadata (SAML Metadata §2.3), which service providers import.
pub async fn metadata(State(state): State<AppState>) -> AppResult<Response> {
    let xml = crate::saml::idp_metadata(&state).await?;
    let mut resp = xml.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/samlmetadata+xml"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    Ok(resp)
}

fn bad_page(msg: &str) -> Response {
    message_page(StatusCode::BAD_REQUEST, "Cannot sign you in", msg, None)
}

/// What a refusal becomes: a page, or the status response's hand-over.
async fn refusal_response(state: &AppState, r: Refusal) -> PageResult<Response> {
    match r {
        Refusal::Page(msg) => Ok(bad_page(&msg)),
        Refusal::Status { app_id, answer, status } => {
            let url = crate::saml::sso::refuse(state, &app_id, &answer, status).await.map_err(PageError)?;
            Ok(Redirect::to(&url).into_response())
        }
        Refusal::Internal(e) => Err(PageError(e)),
    }
}

/// A message in the query string (HTTP-Redirect binding), with the raw query whose octets a
/// signature covers. A malformed one is answered with a page.
pub struct RedirectMessage {
    message: Message,
    raw_query: String,
}

impl<S: Send + Sync> FromRequestParts<S> for RedirectMessage {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Response> {
        let raw_query = parts.uri.query().unwrap_or_default().to_owned();
        let message = Message::from_urlencoded(raw_query.as_bytes()).map_err(|msg| bad_page(&msg))?;
        Ok(RedirectMessage { message, raw_query })
    }
}

/// HTTP-Redirect binding (SAML Bindings §3.4): the request in the query; the browser's
/// cookies come along, so the SSO session can answer at once.
pub async fn sso_redirect(
    State(state): State<AppState>,
    RedirectMessage { message, raw_query }: RedirectMessage,
    jar: CookieJar,
    ClientInfo(client): ClientInfo,
) -> PageResult<Response> {
    let incoming = Incoming {
        binding: Binding::Redirect,
        saml_request: &message.saml_request,
        relay_state: message.relay_state.as_deref(),
        raw_query: Some(&raw_query),
    };
    match request::accept(&state, incoming).await {
        Ok(req) => {
            Ok(pages::respond_begun(&state, jar, login::begin(&state, req, false, &client).await.map_err(PageError)?))
        }
        Err(r) => refusal_response(&state, r).await,
    }
}

/// HTTP-POST binding (SAML Bindings §3.5). A cross-site POST carries no `SameSite=Lax`
/// cookie, so the request is stored and the browser comes back with a top-level GET that
/// does carry the session cookie.
pub async fn sso_post(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> PageResult<Response> {
    if let Err(e) = forms::require_form_content_type(&headers) {
        return Ok(bad_page(&page_message(&e)));
    }
    let message = match Message::from_urlencoded(&body) {
        Ok(m) => m,
        Err(msg) => return Ok(bad_page(&msg)),
    };
    let incoming = Incoming {
        binding: Binding::Post,
        saml_request: &message.saml_request,
        relay_state: message.relay_state.as_deref(),
        raw_query: None,
    };
    match request::accept(&state, incoming).await {
        Ok(req) => {
            crate::store::sessions::create_auth_request(&state.db, &req).await.map_err(PageError)?;
            Ok(Redirect::to(&format!("/saml/resume?request={}", req.id)).into_response())
        }
        Err(r) => refusal_response(&state, r).await,
    }
}

#[derive(serde::Deserialize)]
pub struct ResumeQuery {
    request: String,
}

/// Continues a stored SAML request with the browser's cookies.
pub async fn resume(
    State(state): State<AppState>,
    axum::extract::Query(q): axum::extract::Query<ResumeQuery>,
    jar: CookieJar,
    ClientInfo(client): ClientInfo,
) -> PageResult<Response> {
    let req = crate::store::sessions::find_auth_request(&state.db, &q.request, state.now()).await.map_err(PageError)?;
    let Some(req) = req.filter(|r| r.saml().is_some()) else {
        return Ok(pages::respond_begun(&state, jar, login::AuthorizeNext::Expired));
    };
    Ok(pages::respond_begun(&state, jar, login::begin(&state, req, true, &client).await.map_err(PageError)?))
}

#[derive(serde::Deserialize)]
pub struct DeliveryQuery {
    t: String,
}

/// The hand-over page: posts the response to the ACS (once, and a success only for the
/// browser of the session it was made for).
pub async fn deliver(
    State(state): State<AppState>,
    axum::extract::Query(q): axum::extract::Query<DeliveryQuery>,
    ClientInfo(client): ClientInfo,
) -> PageResult<Response> {
    let session =
        login::current_session(&state, client.session_token.as_deref()).await.map_err(PageError)?.map(|(s, _)| s);
    let Some(d) = crate::saml::sso::take_delivery(&state, &q.t, session.as_ref()).await.map_err(PageError)? else {
        return Ok(message_page(
            StatusCode::BAD_REQUEST,
            "Sign-in response expired",
            "This sign-in response expired or was already used. Go back to the application and try again.",
            None,
        ));
    };
    let page = SamlPostPage { acs_url: &d.acs_url, response: &d.response, relay_state: d.relay_state.as_deref() };
    Ok(render(StatusCode::OK, &page))
}

#[derive(serde::Deserialize)]
pub struct IdpInitiatedQuery {
    app: String,
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
}

/// IdP-initiated sign-in: `/saml/idp-init?app=APP_ID_OR_ENTITY_ID[&RelayState=...]`.
pub async fn idp_initiated(
    State(state): State<AppState>,
    axum::extract::Query(q): axum::extract::Query<IdpInitiatedQuery>,
    jar: CookieJar,
    ClientInfo(client): ClientInfo,
) -> PageResult<Response> {
    match crate::saml::sso::idp_initiated(&state, &q.app, q.relay_state.as_deref()).await.map_err(PageError)? {
        Ok(req) => {
            let next = login::begin(&state, req, false, &client).await.map_err(PageError)?;
            Ok(pages::respond_begun(&state, jar, next))
        }
        Err(msg) => Ok(bad_page(&msg)),
    }
}

/// Single logout, HTTP-Redirect binding: ends the browser's session when the SP may, and
/// answers the SP.
pub async fn slo(
    State(state): State<AppState>,
    RedirectMessage { message, raw_query }: RedirectMessage,
    jar: CookieJar,
    ClientInfo(client): ClientInfo,
) -> PageResult<Response> {
    let session =
        login::current_session(&state, client.session_token.as_deref()).await.map_err(PageError)?.map(|(s, _)| s);
    let outcome = crate::saml::slo::logout(
        &state,
        &message.saml_request,
        message.relay_state.as_deref(),
        &raw_query,
        session.as_ref(),
    )
    .await
    .map_err(PageError)?;
    Ok(match outcome {
        crate::saml::slo::Outcome::Redirect { url, ended: true } => {
            (super::cookies::clear_session(&state, jar), Redirect::to(&url)).into_response()
        }
        crate::saml::slo::Outcome::Redirect { url, ended: false } => Redirect::to(&url).into_response(),
        crate::saml::slo::Outcome::Page(msg) => bad_page(&msg),
    })
}
