//! Claims about the user, released by scope (OpenID Connect Core §5.4).

use serde::Serialize;

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
/// `released_groups` (or with the code's redemption or the refresh token's rotation). Borrowed
/// from the profile and written straight into an ID token, never built as a map first
/// (userinfo, which is not on the hot path, makes its JSON value of them).
#[derive(Debug, Serialize)]
pub struct UserClaims<'a> {
    pub sub: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<&'a [String]>,
}

impl<'a> UserClaims<'a> {
    /// What `scope` releases of the user (OpenID Connect Core §5.4).
    pub fn released(user: &'a Profile, groups: &'a [String], scope: &str) -> Self {
        let profile = has_word(scope, "profile");
        let email = user.email.as_deref().filter(|_| has_word(scope, "email"));
        UserClaims {
            sub: &user.id,
            preferred_username: profile.then_some(user.username.as_str()),
            name: profile.then(|| user.display_name.as_deref().unwrap_or(&user.username)),
            updated_at: profile.then_some(user.updated_at),
            email,
            email_verified: email.map(|_| user.email_verified),
            groups: has_word(scope, "groups").then_some(groups),
        }
    }
}

/// `at_hash` (OpenID Connect Core §3.1.3.6): left half of the SHA-256 of the access token,
/// base64url. SHA-256 matches both RS256 and ES256.
pub fn at_hash(access_token: &str) -> String {
    let h = crate::crypto::sha256(access_token.as_bytes());
    crate::crypto::b64url(&h[..16])
}

/// `amr` as tokens carry it, a JSON array (RFC 8176), from the space-separated form it is
/// stored in.
#[derive(Debug, Clone, Copy)]
pub struct Amr<'a>(pub &'a str);

impl Serialize for Amr<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.split_ascii_whitespace())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_scope_releases_only_the_claims_it_names() {
        let mut user = Profile {
            id: "u1".into(),
            username: "ann".into(),
            email: Some("ann@example.test".into()),
            email_verified: true,
            display_name: None,
            updated_at: 7,
            disabled: false,
        };
        let groups = vec!["ops".to_owned()];
        let released =
            |user: &Profile, scope: &str| serde_json::to_value(UserClaims::released(user, &groups, scope)).unwrap();
        assert_eq!(released(&user, "openid"), json!({"sub": "u1"}));
        assert_eq!(
            released(&user, "openid profile"),
            json!({"sub": "u1", "preferred_username": "ann", "name": "ann", "updated_at": 7})
        );
        assert_eq!(
            released(&user, "openid email groups"),
            json!({"sub": "u1", "email": "ann@example.test", "email_verified": true, "groups": ["ops"]})
        );
        // Without an address the email scope releases nothing, not even `email_verified`.
        user.email = None;
        user.display_name = Some("Ann A.".into());
        assert_eq!(released(&user, "openid email profile")["name"], "Ann A.");
        assert_eq!(released(&user, "openid email").as_object().unwrap().len(), 1);
    }

    #[test]
    fn amr_is_a_json_array() {
        assert_eq!(serde_json::to_value(Amr("pwd otp  mfa")).unwrap(), json!(["pwd", "otp", "mfa"]));
        assert_eq!(serde_json::to_value(Amr("")).unwrap(), json!([]));
    }
}
