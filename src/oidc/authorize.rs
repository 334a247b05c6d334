//! The authorization endpoint: validating requests (RFC 6749 §4.1.1, OpenID Connect Core
//! §3.1.2, RFC 7636) and building the redirect that carries the code or the error.

use url::Url;

use super::acr;
use super::{Params, SCOPES_SUPPORTED, has_word, normalise_scope};
use crate::crypto;
use crate::error::{AppError, AppResult, OAuthErrorCode};
use crate::login::request::{Answer, LoginRequest, OidcAnswer, Refused, Wants};
use crate::mfa::assurance::{self, Assurance};
use crate::mfa::policy::Factor;
use crate::state::AppState;
use crate::store::{self, apps::OidcClient, grants::Grant, sessions::Session};

/// Why an authorization request failed, and where the answer may go.
#[derive(Debug)]
pub enum AuthorizeError {
    /// The client or redirect URI is unknown or does not match: the error must not be sent
    /// to the redirect URI (RFC 6749 §4.1.2.1, RFC 9700 §4.11.1); the user sees a page.
    Page(String),
    /// A valid client and redirect URI: the error goes back to the client.
    Redirect(ErrorRedirect),
    /// A fault on our side before we could trust the redirect URI.
    Internal(AppError),
}

impl From<AppError> for AuthorizeError {
    fn from(e: AppError) -> Self {
        AuthorizeError::Internal(e)
    }
}

#[derive(Debug)]
pub struct ErrorRedirect {
    pub redirect_uri: String,
    pub state: Option<String>,
    pub code: OAuthErrorCode,
    pub description: String,
}

impl ErrorRedirect {
    /// The error response (RFC 6749 §4.1.2.1), with `iss` (RFC 9207).
    pub fn to_url(&self, issuer: &str) -> String {
        let description = error_description(&self.description);
        let mut pairs = vec![("error", self.code.as_str()), ("error_description", description.as_str())];
        if let Some(s) = &self.state {
            pairs.push(("state", s));
        }
        pairs.push(("iss", issuer));
        append_query(&self.redirect_uri, &pairs)
    }
}

/// RFC 6749 §4.1.2.1: `error_description` holds only %x20-21 / %x23-5B / %x5D-7E. Text from
/// elsewhere (a selector plugin's deny reason, say) is reduced to that: other characters
/// become `?`, and it is cut at 500 characters.
pub fn error_description(text: &str) -> String {
    text.chars()
        .take(500)
        .map(|c| if matches!(c, '\x20'..='\x21' | '\x23'..='\x5b' | '\x5d'..='\x7e') { c } else { '?' })
        .collect()
}

/// Adds query parameters to a URI that may already have a query (RFC 6749 §3.1.2).
pub fn append_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    let mut url = Url::parse(uri).expect("registered redirect URIs are absolute URLs");
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
    }
    url.into()
}

const MAX_PARAM_LEN: usize = 2048;

/// Validates an authorization request. On success, returns the login request (not yet
/// stored) and the client.
pub async fn validate(state: &AppState, mut p: Params) -> Result<(LoginRequest, OidcClient), AuthorizeError> {
    let client_id = p.take("client_id").ok_or_else(|| AuthorizeError::Page("The request has no client_id.".into()))?;
    let client = state
        .clients
        .find(&state.db, &client_id)
        .await?
        .map(|c| OidcClient::clone(&c))
        .ok_or_else(|| AuthorizeError::Page("The application that sent you here is not registered.".into()))?;
    let redirect_uri =
        p.take("redirect_uri").ok_or_else(|| AuthorizeError::Page("The request has no redirect_uri.".into()))?;
    // Exact string comparison, no normalisation (RFC 9700 §4.1.3, OpenID Connect Core §3.1.2.1).
    if !client.redirect_uris.iter().any(|u| u == &redirect_uri) {
        return Err(AuthorizeError::Page(
            "The redirect URI in the request is not registered for this application.".into(),
        ));
    }
    let state_param = p.take("state");
    let fail = |code: OAuthErrorCode, description: &str| {
        AuthorizeError::Redirect(ErrorRedirect {
            redirect_uri: redirect_uri.clone(),
            state: state_param.clone(),
            code,
            description: description.to_owned(),
        })
    };
    use OAuthErrorCode::*;
    if state_param.as_ref().is_some_and(|s| s.len() > MAX_PARAM_LEN) {
        return Err(fail(InvalidRequest, "state is too long"));
    }
    if p.contains("request") {
        return Err(fail(RequestNotSupported, "request objects are not supported"));
    }
    if p.contains("request_uri") {
        return Err(fail(RequestUriNotSupported, "request_uri is not supported"));
    }
    if p.contains("registration") {
        return Err(fail(RegistrationNotSupported, "registration is not supported"));
    }
    match p.get("response_type") {
        None => return Err(fail(InvalidRequest, "response_type is required")),
        Some("code") => {}
        Some(_) => return Err(fail(UnsupportedResponseType, "only response_type=code is supported")),
    }
    if let Some(mode) = p.get("response_mode")
        && mode != "query"
    {
        return Err(fail(InvalidRequest, "only response_mode=query is supported"));
    }
    let scope = p.take("scope").unwrap_or_default();
    if scope.len() > MAX_PARAM_LEN {
        return Err(fail(InvalidScope, "scope is too long"));
    }
    for s in scope.split_ascii_whitespace() {
        if !SCOPES_SUPPORTED.contains(&s) && !client.allowed_scopes.iter().any(|a| a == s) {
            return Err(fail(InvalidScope, &format!("unknown scope `{s}`")));
        }
        if !client.allowed_scopes.iter().any(|a| a == s) {
            return Err(fail(InvalidScope, &format!("scope `{s}` is not allowed for this client")));
        }
    }
    let scope = normalise_scope(&scope);
    let nonce = p.take("nonce");
    if nonce.as_ref().is_some_and(|n| n.len() > MAX_PARAM_LEN) {
        return Err(fail(InvalidRequest, "nonce is too long"));
    }
    // PKCE (RFC 7636 §4.3); only S256, so `plain` (and its implicit default) is refused.
    let code_challenge = p.take("code_challenge");
    match (code_challenge.as_deref(), p.get("code_challenge_method")) {
        (None, Some(_)) => return Err(fail(InvalidRequest, "code_challenge_method without code_challenge")),
        (Some(_), None) | (Some(_), Some("plain")) => {
            return Err(fail(InvalidRequest, "code_challenge_method must be S256"));
        }
        (Some(_), Some(m)) if m != "S256" => return Err(fail(InvalidRequest, "code_challenge_method must be S256")),
        (Some(c), Some(_)) if !is_s256_challenge(c) => {
            return Err(fail(InvalidRequest, "code_challenge is not a base64url SHA-256 value"));
        }
        (None, None) if client.is_public() => {
            return Err(fail(InvalidRequest, "public clients must use PKCE with S256 (RFC 9700 §2.1.1)"));
        }
        _ => {}
    }
    let prompt = p.take("prompt");
    if let Some(pr) = &prompt {
        for v in pr.split_ascii_whitespace() {
            if !matches!(v, "none" | "login" | "consent" | "select_account") {
                return Err(fail(InvalidRequest, &format!("unsupported prompt value `{v}`")));
            }
        }
        if has_word(pr, "none") && pr.split_ascii_whitespace().count() > 1 {
            return Err(fail(InvalidRequest, "prompt=none cannot be combined with other values"));
        }
    }
    let max_age = match p.take("max_age") {
        None => None,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n >= 0 => Some(n),
            _ => return Err(fail(InvalidRequest, "max_age must be a non-negative integer")),
        },
    };
    let login_hint = p.take("login_hint").filter(|h| h.len() <= 256);
    let acr_values = p.take("acr_values");
    if acr_values.as_ref().is_some_and(|a| a.len() > MAX_PARAM_LEN) {
        return Err(fail(InvalidRequest, "acr_values is too long"));
    }
    let now = state.now();
    let wants = Wants {
        assurance: acr::wanted(acr_values.as_deref()),
        max_age,
        reauthenticate: prompt.as_deref().is_some_and(|p| has_word(p, "login")),
        passive: prompt.as_deref().is_some_and(|p| has_word(p, "none")),
        login_hint,
    };
    let req = LoginRequest {
        id: crypto::random_token(),
        app_id: client.app_id.clone(),
        wants,
        answer: Answer::Oidc(OidcAnswer {
            client_id: client.client_id.clone(),
            redirect_uri,
            state: state_param,
            nonce,
            code_challenge,
            scope,
            acr_values,
            prompt,
        }),
        created_at: now,
        expires_at: now + state.config.tokens.auth_request_ttl_seconds,
    };
    Ok((req, client))
}

/// An S256 challenge is base64url(SHA-256) without padding: 43 characters.
fn is_s256_challenge(c: &str) -> bool {
    c.len() == 43 && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The refusal of a request, as its error redirect (RFC 6749 §4.1.2.1, with `iss`).
pub fn refusal_url(issuer: &str, a: &OidcAnswer, refused: Refused, reason: &str) -> String {
    let code = match refused {
        Refused::LoginRequired => OAuthErrorCode::LoginRequired,
        Refused::InteractionRequired => OAuthErrorCode::InteractionRequired,
        Refused::AccessDenied => OAuthErrorCode::AccessDenied,
    };
    let e = ErrorRedirect {
        redirect_uri: a.redirect_uri.clone(),
        state: a.state.clone(),
        code,
        description: reason.to_owned(),
    };
    e.to_url(issuer)
}

/// An authorization code about to be issued: the grant and code rows to write, and the code
/// itself for the redirect.
pub struct NewCodeGrant {
    pub grant: Grant,
    pub code: String,
    code_hash: String,
    redirect_uri: String,
    code_challenge: Option<String>,
    expires_at: i64,
}

impl NewCodeGrant {
    /// The code's row, beside `grant`.
    pub fn row(&self) -> store::grants::NewCode<'_> {
        store::grants::NewCode {
            code_hash: &self.code_hash,
            redirect_uri: &self.redirect_uri,
            code_challenge: self.code_challenge.as_deref(),
            expires_at: self.expires_at,
        }
    }
}

/// The grant and code for a satisfied login of the session `session_id` (of `user_id`, signed
/// in at `auth_time`), finished with `factor` (the second factor that counts). The grant's
/// `acr` answers the request's `acr_values`. Nothing is written: `issue_code` writes it alone,
/// a sign-in writes it with its session (`login::new_session`).
pub fn new_code(
    state: &AppState,
    a: &OidcAnswer,
    session_id: &str,
    user_id: &str,
    auth_time: i64,
    factor: Option<Factor>,
) -> NewCodeGrant {
    let now = state.now();
    let code = crypto::random_token();
    NewCodeGrant {
        grant: Grant {
            id: crypto::b64url(&crypto::random_bytes::<16>()),
            client_id: a.client_id.clone(),
            user_id: user_id.to_owned(),
            session_id: Some(session_id.to_owned()),
            scope: a.scope.clone(),
            nonce: a.nonce.clone(),
            auth_time,
            amr: assurance::methods(factor).join(" "),
            acr: acr::answer(Assurance::achieved(factor), a.acr_values.as_deref()).to_owned(),
            created_at: now,
            revoked_at: None,
        },
        code_hash: crypto::token_hash(&code),
        code,
        redirect_uri: a.redirect_uri.clone(),
        code_challenge: a.code_challenge.clone(),
        expires_at: now + state.config.tokens.code_ttl_seconds,
    }
}

/// The redirect back to the client with `code` (RFC 6749 §4.1.2, with `iss` per RFC 9207).
pub fn code_redirect(state: &AppState, a: &OidcAnswer, code: &str) -> String {
    let mut pairs = vec![("code", code)];
    if let Some(s) = &a.state {
        pairs.push(("state", s));
    }
    pairs.push(("iss", state.issuer()));
    append_query(&a.redirect_uri, &pairs)
}

/// Issues an authorization code for a satisfied login of an existing `session` and returns
/// the redirect URL.
pub async fn issue_code(
    state: &AppState,
    a: &OidcAnswer,
    session: &Session,
    factor: Option<Factor>,
) -> AppResult<String> {
    let c = new_code(state, a, &session.id, &session.user_id, session.auth_time, factor);
    store::grants::create_with_code(&state.db, &c.grant, &c.row()).await?;
    Ok(code_redirect(state, a, &c.code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_description_keeps_to_rfc_6749_characters() {
        assert_eq!(error_description("Access denied: try again."), "Access denied: try again.");
        assert_eq!(error_description("a\"b\\c\nd\u{1b}é"), "a?b?c?d??");
        assert_eq!(error_description(&"x".repeat(600)).len(), 500);
    }

    #[test]
    fn s256_shape() {
        assert!(is_s256_challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        assert!(!is_s256_challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c="));
        assert!(!is_s256_challenge("short"));
    }

    #[test]
    fn append_keeps_existing_query() {
        let u = append_query("https://rp.example/cb?x=1", &[("code", "a b")]);
        assert_eq!(u, "https://rp.example/cb?x=1&code=a+b");
    }
}
