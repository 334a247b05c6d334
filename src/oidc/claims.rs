//! Claims about the user, released by scope (OpenID Connect Core §5.4).

use serde_json::{Map, Value, json};

use super::has_word;
use crate::error::AppResult;
use crate::state::AppState;
use crate::store::{self, users::Profile};

/// The user's groups when the scope releases them (`groups`), else none: read once for a
/// response, before anything it answers for is consumed.
pub async fn released_groups(state: &AppState, user: &Profile, scope: &str) -> AppResult<Vec<String>> {
    if has_word(scope, "groups") { store::users::find_groups(&state.db, &user.id).await } else { Ok(Vec::new()) }
}

/// The scope-dependent user claims for the ID token and userinfo; `groups` as read by
/// `released_groups` (or with the code's redemption or the refresh token's rotation).
pub fn user_claims(user: &Profile, groups: &[String], scope: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("sub".into(), json!(user.id));
    if has_word(scope, "profile") {
        m.insert("preferred_username".into(), json!(user.username));
        m.insert("name".into(), json!(user.display_name.as_deref().unwrap_or(&user.username)));
        m.insert("updated_at".into(), json!(user.updated_at));
    }
    if has_word(scope, "email")
        && let Some(email) = &user.email
    {
        m.insert("email".into(), json!(email));
        m.insert("email_verified".into(), json!(user.email_verified));
    }
    if has_word(scope, "groups") {
        m.insert("groups".into(), json!(groups));
    }
    m
}

/// `at_hash` (OpenID Connect Core §3.1.3.6): left half of the SHA-256 of the access token,
/// base64url. SHA-256 matches both RS256 and ES256.
pub fn at_hash(access_token: &str) -> String {
    let h = crate::crypto::sha256(access_token.as_bytes());
    crate::crypto::b64url(&h[..16])
}

/// `amr` is stored space-separated; tokens carry it as a JSON array (RFC 8176).
pub fn amr_array(amr: &str) -> Value {
    Value::Array(amr.split_ascii_whitespace().map(|s| json!(s)).collect())
}
