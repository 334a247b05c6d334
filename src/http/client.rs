//! What a request tells about its client: address (for rate limits and the audit log) and the
//! session and trusted-device cookies.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum_extra::extract::CookieJar;

use super::cookies;
use crate::audit::Origin;
use crate::login::Client;
use crate::state::AppState;

/// Extracts a `login::Client`. Never fails: a request without socket information (the router
/// driven in-process) simply has no address.
pub struct ClientInfo(pub Client);

impl FromRequestParts<AppState> for ClientInfo {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
        let forwarded = state
            .config
            .limits
            .trust_forwarded_for
            .then(|| parts.headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()))
            .flatten()
            .and_then(|v| v.rsplit(',').next())
            .map(|s| s.trim().to_owned())
            .filter(|s| s.parse::<std::net::IpAddr>().is_ok());
        let jar = CookieJar::from_headers(&parts.headers);
        Ok(ClientInfo(Client {
            origin: Origin { ip: forwarded.or(peer) },
            device_token: cookies::device_token(state, &jar),
            session_token: cookies::session_token(state, &jar),
            user_agent: parts
                .headers
                .get(axum::http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(|ua| ua.chars().take(512).collect()),
        }))
    }
}
