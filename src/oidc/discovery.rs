//! OpenID Provider metadata (OpenID Connect Discovery 1.0 §3, RFC 8414).

use serde_json::{Value, json};

use super::{SCOPES_SUPPORTED, acr};
use crate::state::AppState;

pub fn metadata(state: &AppState) -> Value {
    let u = |p: &str| state.url(p);
    json!({
        "issuer": state.issuer(),
        "authorization_endpoint": u("/oauth2/authorize"),
        "token_endpoint": u("/oauth2/token"),
        "userinfo_endpoint": u("/oauth2/userinfo"),
        "jwks_uri": u("/oauth2/jwks"),
        "revocation_endpoint": u("/oauth2/revoke"),
        "introspection_endpoint": u("/oauth2/introspect"),
        "end_session_endpoint": u("/oauth2/logout"),
        "scopes_supported": SCOPES_SUPPORTED,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": state.keys().algs(),
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": [
            "iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "sid", "amr", "acr", "azp", "at_hash",
            "name", "preferred_username", "updated_at", "email", "email_verified", "groups"
        ],
        "acr_values_supported": acr::SUPPORTED,
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "authorization_response_iss_parameter_supported": true,
        "frontchannel_logout_supported": false,
        "backchannel_logout_supported": false,
    })
}
