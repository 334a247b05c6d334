//! SAML endpoints: thin handlers over `crate::saml`.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;

use super::client::ClientInfo;
use super::error::{PageError, PageResult, message_page, render};
use super::forms;
use crate::error::AppResult;
use crate::login;
use crate::oidc::Params;
use crate::saml::request::{self, Binding, Incoming, Refusal};
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

/// `SAMLRequest` and `RelayState` from a query or form body (duplicates refused).
fn message_params(encoded: &[u8]) -> Result<(String, Option<String>), String> {
    let p = Params::from_urlencoded(encoded).map_err(|e| e.public_message())?;
    let Some(saml_request) = p.get("SAMLRequest") else {
        return Err("The request carries no SAMLRequest.".into());
    };
    Ok((saml_request.to_owned(), p.get("RelayState").map(str::to_owned)))
}

/// HTTP-Redirect binding (SAML Bindings §3.4): the request in the query; the browser's
/// cookies come along, so the SSO session can answer at once.
pub async fn sso_redirect(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    jar: CookieJar,
    ClientInfo(client): ClientInfo,
) -> PageResult<Response> {
    let raw = query.unwrap_or_default();
    let (saml_request, relay_state) = match message_params(raw.as_bytes()) {
        Ok(v) => v,
        Err(msg) => return Ok(bad_page(&msg)),
    };
    let incoming = Incoming {
        binding: Binding::Redirect,
        saml_request: &saml_request,
        relay_state: relay_state.as_deref(),
        raw_query: Some(&raw),
    };
    match request::accept(&state, incoming).await {
        Ok(req) => Ok(super::oidc::next_response(
            &state,
            jar,
            login::begin(&state, req, false, &client).await.map_err(PageError)?,
        )),
        Err(r) => refusal_response(&state, r).await,
    }
}

/// HTTP-POST binding (SAML Bindings §3.5). A cross-site POST carries no `SameSite=Lax`
/// cookie, so the request is stored and the browser comes back with a top-level GET that
/// does carry the session cookie.
pub async fn sso_post(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> PageResult<Response> {
    if let Err(e) = forms::require_form_content_type(&headers) {
        return Ok(bad_page(&e.public_message()));
    }
    let (saml_request, relay_state) = match message_params(&body) {
        Ok(v) => v,
        Err(msg) => return Ok(bad_page(&msg)),
    };
    let incoming = Incoming {
        binding: Binding::Post,
        saml_request: &saml_request,
        relay_state: relay_state.as_deref(),
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
        return Ok(super::oidc::next_response(&state, jar, login::AuthorizeNext::Expired));
    };
    Ok(super::oidc::next_response(&state, jar, login::begin(&state, req, true, &client).await.map_err(PageError)?))
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
            Ok(super::oidc::next_response(&state, jar, next))
        }
        Err(msg) => Ok(bad_page(&msg)),
    }
}

/// Single logout, HTTP-Redirect binding: ends the browser's session when the SP may, and
/// answers the SP.
pub async fn slo(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    jar: CookieJar,
    ClientInfo(client): ClientInfo,
) -> PageResult<Response> {
    let raw = query.unwrap_or_default();
    let (saml_request, relay_state) = match message_params(raw.as_bytes()) {
        Ok(v) => v,
        Err(msg) => return Ok(bad_page(&msg)),
    };
    let session =
        login::current_session(&state, client.session_token.as_deref()).await.map_err(PageError)?.map(|(s, _)| s);
    let outcome = crate::saml::slo::logout(&state, &saml_request, relay_state.as_deref(), &raw, session.as_ref())
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
