//! What a request tells about its client: address (for rate limits and the audit log) and the
//! session and trusted-device cookies.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum_extra::extract::CookieJar;

use super::cookies;
use crate::audit::Origin;
use crate::login::Client;
use crate::state::AppState;

/// The client's address: the last `X-Forwarded-For` entry behind a proxy the configuration
/// trusts, else the connection's peer; none for the router driven in-process. The last entry
/// of the last header line: a proxy that adds a line of its own (HAProxy does) leaves the
/// client's lines, which say whatever the client likes, before it.
fn address(parts: &Parts, state: &AppState) -> Option<IpAddr> {
    let forwarded = || {
        let header = parts.headers.get_all("x-forwarded-for").iter().next_back()?.to_str().ok()?;
        header.rsplit(',').next()?.trim().parse().ok()
    };
    state
        .config
        .limits
        .trust_forwarded_for
        .then(forwarded)
        .flatten()
        .or_else(|| parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()))
}

/// Extracts the client's address alone (`address`).
pub struct ClientAddress(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(address(parts, state)))
    }
}

/// Extracts a `login::Client`. Never fails: a request without socket information (the router
/// driven in-process) simply has no address.
pub struct ClientInfo(pub Client);

impl FromRequestParts<AppState> for ClientInfo {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let address = address(parts, state);
        let jar = CookieJar::from_headers(&parts.headers);
        Ok(ClientInfo(Client {
            origin: Origin { ip: address.map(|a| a.to_string()) },
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
