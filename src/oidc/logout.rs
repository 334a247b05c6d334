//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).

use serde_json::Value;

use super::Params;
use super::authorize::append_query;
use crate::error::AppResult;
use crate::state::AppState;

/// A validated logout request.
#[derive(Debug, Clone, Default)]
pub struct LogoutRequest {
    /// Where to send the user afterwards: registered for the client, with `state` appended.
    pub redirect: Option<String>,
    /// The session the `id_token_hint` was issued for, if it verified.
    pub hinted_sid: Option<String>,
    pub client_name: Option<String>,
    /// Raw parameters to carry through a confirmation form.
    pub id_token_hint: Option<String>,
    pub client_id: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
}

/// Validates the request. An error string is shown to the user on a page: a logout request
/// with a bad redirect is never redirected (§3: the URI must match a registered one exactly).
pub async fn validate(state: &AppState, mut p: Params) -> AppResult<Result<LogoutRequest, String>> {
    let id_token_hint = p.take("id_token_hint");
    let mut client_id = p.take("client_id");
    let post_logout_redirect_uri = p.take("post_logout_redirect_uri");
    let state_param = p.take("state");
    let mut hinted_sid = None;
    if let Some(hint) = &id_token_hint {
        // Expired hints are acceptable (§2); the signature and issuer must hold.
        let Some((_, claims)) = state.keys().verify_jwt(hint) else {
            return Ok(Err("The logout request carries an ID token that this server did not issue.".into()));
        };
        if claims.get("iss").and_then(Value::as_str) != Some(state.issuer()) {
            return Ok(Err("The logout request carries an ID token from another issuer.".into()));
        }
        let aud = claims.get("aud").and_then(Value::as_str).map(str::to_owned);
        if client_id.is_some() && aud.is_some() && client_id != aud {
            return Ok(Err("client_id does not match the ID token's audience.".into()));
        }
        client_id = client_id.or(aud);
        hinted_sid = claims.get("sid").and_then(Value::as_str).map(str::to_owned);
    }
    let client = match &client_id {
        Some(id) => state.clients.find(&state.db, id).await?,
        None => None,
    };
    let redirect = match &post_logout_redirect_uri {
        None => None,
        Some(uri) => {
            let Some(c) = &client else {
                return Ok(Err("A post-logout redirect needs the client to be identified.".into()));
            };
            if !c.post_logout_redirect_uris.iter().any(|u| u == uri) {
                return Ok(Err("The post-logout redirect URI is not registered for this application.".into()));
            }
            let mut pairs = Vec::new();
            if let Some(s) = &state_param {
                pairs.push(("state", s.as_str()));
            }
            Some(append_query(uri, &pairs))
        }
    };
    Ok(Ok(LogoutRequest {
        redirect,
        hinted_sid,
        client_name: client.map(|c| c.name.clone()),
        id_token_hint,
        client_id,
        post_logout_redirect_uri,
        state: state_param,
    }))
}
