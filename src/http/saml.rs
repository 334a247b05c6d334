//! SAML endpoints: thin handlers over `crate::saml`.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::error::AppResult;
use crate::state::AppState;

/// The IdP's metadata (SAML Metadata §2.3), which service providers import.
pub async fn metadata(State(state): State<AppState>) -> AppResult<Response> {
    let xml = crate::saml::idp_metadata(&state).await?;
    let mut resp = xml.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/samlmetadata+xml"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    Ok(resp)
}
