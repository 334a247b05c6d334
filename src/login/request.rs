//! The spine's one currency (DESIGN §1): a login request as each protocol front hands it over
//! after validating its own protocol. What the request *wants* is typed and protocol-free;
//! how to *answer* is an enum the spine only hands back to the protocol that made it.

use crate::mfa::assurance::Assurance;

/// A validated login request of either protocol, waiting for (or answered by) a sign-in.
#[derive(Debug, Clone)]
pub struct LoginRequest {
    /// Random, the key under which the request waits (URL-safe).
    pub id: String,
    /// The application that asked.
    pub app_id: String,
    pub wants: Wants,
    pub answer: Answer,
    pub created_at: i64,
    pub expires_at: i64,
}

/// What the request asks of the login.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wants {
    /// The minimum strength (OIDC `acr_values`, SAML `RequestedAuthnContext`).
    pub assurance: Assurance,
    /// The first factor must be at most this old (OIDC `max_age`).
    pub max_age: Option<i64>,
    /// The first factor must be passed again now (OIDC `prompt=login`, SAML `ForceAuthn`).
    pub reauthenticate: bool,
    /// No pages may be shown (OIDC `prompt=none`, SAML `IsPassive`).
    pub passive: bool,
    /// Who the app expects to sign in (OIDC `login_hint`).
    pub login_hint: Option<String>,
}

impl Wants {
    /// A first factor more recent than the session's is asked for: device trust alone never
    /// satisfies such a login.
    pub fn fresh_first_factor(&self) -> bool {
        self.reauthenticate || self.max_age.is_some()
    }

    /// Whether an SSO session that passed its first factor at `auth_time` may answer without
    /// a new sign-in (OpenID Connect Core §3.1.2.1; SAML Core §3.4.1 `ForceAuthn`).
    pub fn session_is_fresh_enough(&self, auth_time: i64, now: i64) -> bool {
        !self.reauthenticate && self.max_age.is_none_or(|max_age| auth_time + max_age >= now)
    }

    /// A `login_hint` naming someone other than `username`/`email` asks for a new sign-in.
    pub fn hint_matches(&self, username: &str, email: Option<&str>) -> bool {
        self.login_hint.as_deref().is_none_or(|h| h == username || email == Some(h))
    }
}

/// How the result goes back: the protocol's own back channel.
#[derive(Debug, Clone)]
pub enum Answer {
    Oidc(OidcAnswer),
    Saml(SamlAnswer),
}

/// An OIDC authorization request's answer: a code (or error) to the redirect URI.
#[derive(Debug, Clone)]
pub struct OidcAnswer {
    pub client_id: String,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    /// PKCE S256 challenge.
    pub code_challenge: Option<String>,
    pub scope: String,
    /// `acr_values` as sent: the ID token names the first one the login met.
    pub acr_values: Option<String>,
    /// `prompt` as sent (`consent`, `select_account` included), for selector plugins.
    pub prompt: Option<String>,
}

/// A SAML request's answer: a Response posted to the ACS.
#[derive(Debug, Clone)]
pub struct SamlAnswer {
    /// The SP's entity ID (the audience).
    pub sp_entity_id: String,
    pub acs: String,
    pub relay_state: Option<String>,
    /// The AuthnRequest's ID; `None` for an IdP-initiated sign-in.
    pub in_response_to: Option<String>,
    /// The NameID format asked for (short name, already checked against the registration);
    /// `None`: the registered one.
    pub name_id_format: Option<String>,
    /// The requested authentication contexts' levels, in the SP's order of preference (the
    /// assertion names the first one met).
    pub requested: Vec<Assurance>,
}

/// Why the spine refuses a request; each protocol says it in its own words (OAuth error
/// codes, SAML second-level statuses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// A passive request and no usable session.
    LoginRequired,
    /// A passive request that needs a page (a second factor).
    InteractionRequired,
    /// The policy or a selector plugin denied the login.
    AccessDenied,
}

impl LoginRequest {
    pub fn saml(&self) -> Option<&SamlAnswer> {
        match &self.answer {
            Answer::Saml(a) => Some(a),
            Answer::Oidc(_) => None,
        }
    }
}

/// A request's protocol values as a selector plugin sees them (WIT `request`): an OIDC
/// request's as sent; a SAML request's contexts as the classes of the levels it accepts, and
/// its IsPassive / ForceAuthn as the `prompt` words that mean the same.
pub struct Sent {
    pub acr_values: Vec<String>,
    pub prompt: Vec<String>,
    pub scopes: Vec<String>,
}

impl LoginRequest {
    pub fn sent(&self) -> Sent {
        let words = |s: Option<&str>| -> Vec<String> {
            s.map(|s| s.split_ascii_whitespace().map(str::to_owned).collect()).unwrap_or_default()
        };
        match &self.answer {
            Answer::Oidc(a) => Sent {
                acr_values: words(a.acr_values.as_deref()),
                prompt: words(a.prompt.as_deref()),
                scopes: words(Some(&a.scope)),
            },
            Answer::Saml(a) => {
                let prompt = match (self.wants.passive, self.wants.reauthenticate) {
                    (true, _) => vec!["none".to_owned()],
                    (false, true) => vec!["login".to_owned()],
                    (false, false) => vec![],
                };
                let classes = a.requested.iter().map(|l| crate::saml::response::class::of(*l).to_owned());
                Sent { acr_values: classes.collect(), prompt, scopes: vec![] }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freshness() {
        let mut w = Wants::default();
        assert!(w.session_is_fresh_enough(10, 1000));
        assert!(!w.fresh_first_factor());
        w.max_age = Some(60);
        assert!(w.fresh_first_factor());
        assert!(!w.session_is_fresh_enough(900, 1000));
        assert!(w.session_is_fresh_enough(950, 1000));
        w.max_age = Some(0);
        assert!(!w.session_is_fresh_enough(999, 1000));
        w.max_age = None;
        w.reauthenticate = true;
        assert!(!w.session_is_fresh_enough(1000, 1000));
        assert!(w.fresh_first_factor());
    }

    #[test]
    fn plugins_see_a_saml_request_in_oidc_words() {
        let saml = LoginRequest {
            id: "r".into(),
            app_id: "a".into(),
            wants: Wants { assurance: Assurance::SecondFactor, passive: true, ..Wants::default() },
            answer: Answer::Saml(SamlAnswer {
                sp_entity_id: "https://sp".into(),
                acs: "https://sp/acs".into(),
                relay_state: None,
                in_response_to: Some("_1".into()),
                name_id_format: None,
                requested: vec![Assurance::PhishingResistant, Assurance::SecondFactor],
            }),
            created_at: 0,
            expires_at: 1,
        };
        let sent = saml.sent();
        assert_eq!(sent.prompt, ["none"]);
        assert_eq!(
            sent.acr_values,
            [crate::saml::response::class::PHISHING_RESISTANT, crate::saml::response::class::REFEDS_MFA]
        );
        assert!(sent.scopes.is_empty());
    }

    #[test]
    fn login_hint() {
        let mut w = Wants::default();
        assert!(w.hint_matches("alice", None));
        w.login_hint = Some("alice@example.test".into());
        assert!(w.hint_matches("alice", Some("alice@example.test")));
        assert!(!w.hint_matches("alice", None));
        w.login_hint = Some("alice".into());
        assert!(w.hint_matches("alice", None));
        assert!(!w.hint_matches("bob", Some("alice@x")));
    }
}
