//! OpenID Connect provider logic: authorization requests, the token endpoint, claims,
//! discovery, userinfo, revocation, introspection and RP-initiated logout. No axum here:
//! handlers pass parsed parameters in and map the results to HTTP.

pub mod acr;
pub mod authorize;
pub mod claims;
pub mod discovery;
pub mod fair_share;
pub mod logout;
pub mod token;

use std::collections::HashMap;

use crate::error::{AppError, OAuthErrorCode};
use crate::store::apps::OidcClient;

/// Scopes this provider understands (OpenID Connect Core §5.4 plus `groups`).
pub const SCOPES_SUPPORTED: &[&str] = &["openid", "profile", "email", "groups", "offline_access"];

/// Form or query parameters with duplicates refused: RFC 6749 §3.1 says request and response
/// parameters MUST NOT be included more than once. Empty values count as absent (§3.1).
#[derive(Debug, Default, Clone)]
pub struct Params(HashMap<String, String>);

impl Params {
    pub fn parse(pairs: Vec<(String, String)>) -> Result<Params, AppError> {
        let mut map = HashMap::with_capacity(pairs.len());
        for (k, v) in pairs {
            if v.is_empty() {
                continue;
            }
            if map.contains_key(&k) {
                return Err(AppError::oauth(OAuthErrorCode::InvalidRequest, format!("parameter `{k}` is repeated")));
            }
            map.insert(k, v);
        }
        Ok(Params(map))
    }

    pub fn from_urlencoded(body: &[u8]) -> Result<Params, AppError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
            .map_err(|_| AppError::oauth(OAuthErrorCode::InvalidRequest, "malformed form body"))?;
        Params::parse(pairs)
    }

    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str)
    }

    pub fn take(&mut self, k: &str) -> Option<String> {
        self.0.remove(k)
    }

    pub fn contains(&self, k: &str) -> bool {
        self.0.contains_key(k)
    }
}

/// The scopes a client may ask for beyond the standard ones (its registration's extras): the
/// only ones a token in its own name carries.
pub fn extra_scopes(client: &OidcClient) -> impl Iterator<Item = &str> {
    client.allowed_scopes.iter().map(String::as_str).filter(|s| !SCOPES_SUPPORTED.contains(s))
}

/// Scopes de-duplicated, order kept.
pub(crate) fn normalise_scope(scope: &str) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for s in scope.split_ascii_whitespace() {
        if !seen.contains(&s) {
            seen.push(s);
        }
    }
    seen.join(" ")
}

/// Space-delimited list membership (scopes, prompt, acr_values).
pub fn has_word(list: &str, word: &str) -> bool {
    list.split_ascii_whitespace().any(|w| w == word)
}
