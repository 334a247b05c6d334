//! The authorization endpoint: validating requests (RFC 6749 §4.1.1, OpenID Connect Core
//! §3.1.2, RFC 7636) and building the redirect that carries the code or the error.

use url::Url;

use super::{Params, SCOPES_SUPPORTED, has_word};
use crate::crypto;
use crate::error::{AppError, AppResult, OAuthErrorCode};
use crate::state::AppState;
use crate::store::{self, apps::OidcClient, grants::Grant, sessions::AuthRequest};

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

/// Validates an authorization request. On success, returns the request to store (not yet
/// stored) and the client.
pub async fn validate(state: &AppState, mut p: Params) -> Result<(AuthRequest, OidcClient), AuthorizeError> {
    let client_id = p.take("client_id").ok_or_else(|| AuthorizeError::Page("The request has no client_id.".into()))?;
    let client = store::apps::find_client(&state.db, &client_id)
        .await?
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
    let req = AuthRequest {
        id: crypto::random_token(),
        app_id: client.app_id.clone(),
        protocol: "oidc".into(),
        client_id: client.client_id.clone(),
        redirect_uri,
        scope,
        state: state_param,
        nonce,
        code_challenge,
        prompt,
        max_age,
        login_hint,
        acr_values,
        saml_request_id: None,
        saml_name_id_format: None,
        created_at: now,
        expires_at: now + state.config.tokens.auth_request_ttl_seconds,
    };
    Ok((req, client))
}

/// Scopes de-duplicated, order kept.
fn normalise_scope(scope: &str) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for s in scope.split_ascii_whitespace() {
        if !seen.contains(&s) {
            seen.push(s);
        }
    }
    seen.join(" ")
}

/// An S256 challenge is base64url(SHA-256) without padding: 43 characters.
fn is_s256_challenge(c: &str) -> bool {
    c.len() == 43 && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// What the finished sign-in contributes to the code: who, which session, and how.
pub struct Authentication<'a> {
    pub user_id: &'a str,
    pub session_id: &'a str,
    pub auth_time: i64,
    pub amr: &'a str,
    pub acr: &'a str,
}

/// Issues an authorization code for a validated request and returns the redirect URL
/// (RFC 6749 §4.1.2, with `iss` per RFC 9207).
pub async fn issue_code(state: &AppState, req: &AuthRequest, auth: &Authentication<'_>) -> AppResult<String> {
    let now = state.now();
    let code = crypto::random_token();
    let code_hash = crypto::token_hash(&code);
    let grant = Grant {
        id: crypto::b64url(&crypto::random_bytes::<16>()),
        client_id: req.client_id.clone(),
        user_id: auth.user_id.to_owned(),
        session_id: Some(auth.session_id.to_owned()),
        scope: req.scope.clone(),
        nonce: req.nonce.clone(),
        auth_time: auth.auth_time,
        amr: auth.amr.to_owned(),
        acr: auth.acr.to_owned(),
        created_at: now,
        revoked_at: None,
    };
    let new_code = store::grants::NewCode {
        code_hash: &code_hash,
        redirect_uri: &req.redirect_uri,
        code_challenge: req.code_challenge.as_deref(),
        expires_at: now + state.config.tokens.code_ttl_seconds,
    };
    store::grants::create_with_code(&state.db, &grant, &new_code).await?;
    let mut pairs = vec![("code", code.as_str())];
    if let Some(s) = &req.state {
        pairs.push(("state", s));
    }
    pairs.push(("iss", state.issuer()));
    Ok(append_query(&req.redirect_uri, &pairs))
}

/// Whether an existing SSO session may answer this request without a new sign-in:
/// `prompt=login` and `max_age` demand a more recent first factor (OpenID Connect Core
/// §3.1.2.1). The login page's own completion does not ask this: it has just authenticated.
pub fn session_is_fresh_enough(req: &AuthRequest, auth_time: i64, now: i64) -> bool {
    if req.prompt.as_deref().is_some_and(|p| has_word(p, "login")) {
        return false;
    }
    match req.max_age {
        Some(max_age) => auth_time + max_age >= now,
        None => true,
    }
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

    #[test]
    fn freshness() {
        let mut req = AuthRequest {
            id: "r".into(),
            app_id: "a".into(),
            protocol: "oidc".into(),
            client_id: "c".into(),
            redirect_uri: "https://rp/cb".into(),
            scope: "openid".into(),
            state: None,
            nonce: None,
            code_challenge: None,
            prompt: None,
            max_age: None,
            login_hint: None,
            acr_values: None,
            saml_request_id: None,
            saml_name_id_format: None,
            created_at: 1000,
            expires_at: 2000,
        };
        assert!(session_is_fresh_enough(&req, 10, 1000));
        req.max_age = Some(60);
        assert!(!session_is_fresh_enough(&req, 900, 1000));
        assert!(session_is_fresh_enough(&req, 950, 1000));
        req.max_age = Some(0);
        assert!(!session_is_fresh_enough(&req, 999, 1000));
        req.max_age = None;
        req.prompt = Some("login".into());
        assert!(!session_is_fresh_enough(&req, 1000, 1000));
    }
}
