//! Token endpoint (RFC 6749 §3.2, §4.1.3, §6; RFC 7636 §4.6), userinfo (OpenID Connect Core
//! §5.3), revocation (RFC 7009) and introspection (RFC 7662).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use serde_json::{Value, json};

use super::claims::{Amr, UserClaims, at_hash, released_groups};
use super::{Params, SCOPES_SUPPORTED, extra_scopes, has_word, normalise_scope};
use crate::config::SigningAlg;
use crate::crypto::signing::SigningKey;
use crate::crypto::{self, Located, Secret};
use crate::error::{AppError, AppResult, OAuthErrorCode};
use crate::state::AppState;
use crate::store::grants::{CodeRedemption, Grant, Refreshed, Rotation};
use crate::store::{self, apps::OidcClient, users::Profile};

use OAuthErrorCode::*;

#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: Secret,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Secret>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<Secret>,
    pub scope: String,
}

/// Hash under which client secrets are stored. Secrets are 256-bit random values we generate,
/// so a fast hash suffices (no dictionary to attack).
pub fn client_secret_hash(secret: &str) -> String {
    crypto::token_hash(secret)
}

/// The mark a client's own token carries, in its `jti`, of the secret it was issued under:
/// the first bytes of a hash of that secret's stored hash. Replacing the secret ends every
/// token the old one got, whenever and on whichever node it was issued: the issue time alone
/// (whole seconds) cannot tell a token issued just before the replacement from one issued
/// just after, nor see one issued by a node whose cache still held the old secret. It tells
/// nothing of the secret (256 random bits), only whether two tokens share one.
///
/// The mark is also of the grant's epoch (`client_credentials_epoch`), new each time the
/// grant is turned on, so that turning it off and on again ends the tokens issued before,
/// even within the second the grant's `since` starts from. A client whose grant has not been
/// turned on since epochs came has none, and its marks are of the secret alone.
fn secret_mark(secret_hash: &str, epoch: Option<&str>) -> String {
    let mut input = [b"portcullis client token\0", secret_hash.as_bytes()].concat();
    if let Some(epoch) = epoch {
        input.push(0);
        input.extend_from_slice(epoch.as_bytes());
    }
    crypto::b64url(&crypto::sha256(&input)[..6])
}

/// Client authentication (RFC 6749 §2.3.1): `client_secret_basic`, `client_secret_post`, or
/// `none` for public clients. Exactly one method per request.
pub async fn authenticate_client(
    state: &AppState,
    p: &mut Params,
    authorization: Option<&str>,
) -> AppResult<std::sync::Arc<OidcClient>> {
    let invalid = |d: &str| AppError::oauth(InvalidClient, d);
    let basic = match authorization {
        Some(h) => Some(parse_basic(h).ok_or_else(|| invalid("malformed Authorization header"))?),
        None => None,
    };
    let form_id = p.take("client_id");
    let form_secret = p.take("client_secret");
    let (client_id, secret) = match basic {
        Some((id, secret)) => {
            if form_secret.is_some() {
                return Err(AppError::oauth(InvalidRequest, "use one client authentication method, not two"));
            }
            if form_id.as_ref().is_some_and(|f| f != &id) {
                return Err(AppError::oauth(InvalidRequest, "client_id does not match the authenticated client"));
            }
            (id, Some(secret))
        }
        None => (form_id.ok_or_else(|| invalid("client authentication required"))?, form_secret),
    };
    let client = state.clients.find(&state.db, &client_id).await?;
    // Compare against a dummy hash when the client is unknown, so timing does not tell.
    let stored = client.as_ref().and_then(|c| c.secret_hash.clone());
    match (client, secret) {
        (Some(c), None) if c.is_public() => Ok(c),
        (Some(c), Some(s)) if !c.is_public() => {
            let ok = crypto::ct_eq(client_secret_hash(&s).as_bytes(), stored.unwrap_or_default().as_bytes());
            if ok { Ok(c) } else { Err(invalid("client authentication failed")) }
        }
        (Some(c), Some(_)) if c.is_public() => Err(invalid("public clients have no secret")),
        (Some(_), None) => Err(invalid("client authentication required")),
        (None, s) => {
            let _ = crypto::ct_eq(client_secret_hash(&s.unwrap_or_default()).as_bytes(), &[0u8; 64]);
            Err(invalid("client authentication failed"))
        }
        _ => Err(invalid("client authentication failed")),
    }
}

/// `Basic base64(urlencode(id):urlencode(secret))` (RFC 6749 §2.3.1).
fn parse_basic(header: &str) -> Option<(String, String)> {
    let (scheme, rest) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(rest.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let dec = |s: &str| url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned());
    Some((dec(id)?, dec(secret)?))
}

/// The token endpoint (RFC 6749 §3.2): `from` is the client's address, whose turn a grant
/// waits for within its client's (`fair_share`).
pub async fn token(
    state: &AppState,
    mut p: Params,
    authorization: Option<&str>,
    from: Option<std::net::IpAddr>,
) -> AppResult<TokenResponse> {
    let grant_type = p.take("grant_type").ok_or_else(|| AppError::oauth(InvalidRequest, "grant_type is required"))?;
    let answer = match authenticate_client(state, &mut p, authorization).await {
        Ok(client) => match grant_type.as_str() {
            "authorization_code" | "refresh_token" | "client_credentials" => {
                // The grant's work (its signatures, its write) waits for the client's turn,
                // and within it for its address's.
                let source = crate::turns::Source::of(from);
                let _slot = state.grants.admit(&client.client_id, source).await?;
                match grant_type.as_str() {
                    "authorization_code" => authorization_code(state, &client, p).await,
                    "refresh_token" => refresh(state, &client, p).await,
                    _ => client_credentials(state, &client, p).await,
                }
            }
            _ => Err(AppError::oauth(
                UnsupportedGrantType,
                "supported: authorization_code, refresh_token, client_credentials",
            )),
        },
        Err(e) => Err(e),
    };
    state.metrics.token_grant(&grant_type, answer.is_ok());
    answer
}

async fn authorization_code(state: &AppState, client: &OidcClient, mut p: Params) -> AppResult<TokenResponse> {
    let code = p.take("code").ok_or_else(|| AppError::oauth(InvalidRequest, "code is required"))?;
    let redirect_uri = p.take("redirect_uri");
    let verifier = p.take("code_verifier");
    let now = state.now();
    let bad = |d: &str| AppError::oauth(InvalidGrant, d);
    // The refresh token is stored by the statement that redeems the code, when the checks
    // below hold there too (one commit for the exchange); the token handed out names its row.
    let refresh_secret = Secret::random();
    let refresh_token_hash = crypto::token_hash(&refresh_secret);
    let challenge = verifier.as_deref().map(|v| match is_valid_verifier(v) {
        true => crypto::b64url(&crypto::sha256(v.as_bytes())),
        false => store::grants::NO_CHALLENGE.to_owned(),
    });
    let exchange = store::grants::Exchange {
        client_id: &client.client_id,
        redirect_uri: redirect_uri.as_deref(),
        challenge: challenge.as_deref(),
        refresh_token_hash: &refresh_token_hash,
        refresh_expires_at: now + state.config.tokens.refresh_token_ttl_seconds,
    };
    let (redeemed, granted) =
        match store::grants::redeem_code(&state.db, &crypto::token_hash(&code), &exchange, now).await? {
            CodeRedemption::Fresh { code, granted } => (code, granted),
            CodeRedemption::Replayed { grant_id } => {
                // A second redemption means the code leaked: revoke what the first one issued
                // (RFC 6749 §4.1.2, RFC 9700 §4.2.4).
                store::grants::revoke(&state.db, &grant_id, now).await?;
                tracing::warn!(%grant_id, client_id = %client.client_id, "authorization code replayed; grant revoked");
                return Err(bad("authorization code already used"));
            }
            CodeRedemption::Unknown => return Err(bad("unknown authorization code")),
        };
    let Refreshed { grant, user, groups } = *granted;
    if grant.client_id != client.client_id {
        store::grants::revoke(&state.db, &grant.id, now).await?;
        return Err(bad("authorization code was issued to another client"));
    }
    if redeemed.expires_at <= now {
        return Err(bad("authorization code expired"));
    }
    if redeemed.grant_revoked {
        return Err(bad("authorization was revoked"));
    }
    if redirect_uri.as_deref() != Some(redeemed.redirect_uri.as_str()) {
        return Err(bad("redirect_uri does not match the authorization request"));
    }
    match (&redeemed.code_challenge, verifier) {
        (Some(expected), Some(v)) => {
            if !is_valid_verifier(&v) {
                return Err(AppError::oauth(InvalidRequest, "code_verifier must be 43-128 unreserved characters"));
            }
            // The verifier's S256 challenge, computed above for the statement.
            let computed = challenge.as_deref().unwrap_or(store::grants::NO_CHALLENGE);
            if !crypto::ct_eq(computed.as_bytes(), expected.as_bytes()) {
                return Err(bad("code_verifier does not match the code_challenge"));
            }
        }
        (Some(_), None) => return Err(bad("code_verifier is required")),
        // A verifier for a code issued without a challenge: a PKCE downgrade attempt
        // (RFC 9700 §4.8.2).
        (None, Some(_)) => return Err(bad("code_verifier sent but the authorization request had no code_challenge")),
        (None, None) => {}
    }
    let mut resp = issue_tokens_without_refresh(state, client, &grant, &user, &groups, &grant.scope, now).await?;
    let Some(refresh_id) = redeemed.refresh_id else {
        // Every check the statement made was made again above: they cannot disagree.
        return Err(AppError::internal("a code exchange passed its checks but its refresh token was not stored"));
    };
    resp.refresh_token = Some(state.master_key.locator().token(refresh_id, &refresh_secret));
    Ok(resp)
}

/// RFC 7636 §4.1: 43..128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
fn is_valid_verifier(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

async fn refresh(state: &AppState, client: &OidcClient, mut p: Params) -> AppResult<TokenResponse> {
    let token = p.take("refresh_token").ok_or_else(|| AppError::oauth(InvalidRequest, "refresh_token is required"))?;
    let invalid = || AppError::oauth(InvalidGrant, "invalid refresh token");
    let presented = locate_refresh_token(state, &token).await?.ok_or_else(invalid)?;
    let requested_scope = p.take("scope");
    // RFC 6749 §6: a narrower scope may be asked for, never a wider one. The request is
    // checked in full before the token is consumed, so a refused refresh leaves the grant as
    // it was (the scope of a grant never changes, so checking first is not a race).
    if let Some(s) = &requested_scope
        && let Some((grant, _, _)) = store::grants::find_by_refresh_token(&state.db, &presented).await?
        && grant.client_id == client.client_id
        && let Some(extra) = s.split_ascii_whitespace().find(|w| !has_word(&grant.scope, w))
    {
        return Err(AppError::oauth(InvalidScope, format!("scope `{extra}` was not granted")));
    }
    let now = state.now();
    let new_secret = Secret::random();
    let rotation = store::grants::rotate_refresh_token(
        &state.db,
        &presented,
        &crypto::token_hash(&new_secret),
        &client.client_id,
        now,
        now + state.config.tokens.refresh_token_ttl_seconds,
    )
    .await?;
    let (new_id, refreshed) = match rotation {
        Rotation::Rotated { id, refreshed } => (id, *refreshed),
        Rotation::Reused { grant_id } => {
            tracing::warn!(%grant_id, client_id = %client.client_id, "refresh token reused; token family revoked");
            return Err(AppError::oauth(InvalidGrant, "refresh token already used; the authorization was revoked"));
        }
        Rotation::Invalid => return Err(invalid()),
    };
    let (grant, user, groups) = (refreshed.grant, refreshed.user, refreshed.groups);
    let scope = match requested_scope {
        Some(s) if s.split_ascii_whitespace().all(|w| has_word(&grant.scope, w)) => s,
        Some(_) => return Err(AppError::internal("a refresh grant's scope changed while it was refreshed")),
        None => grant.scope.clone(),
    };
    // From here on nothing is read or written: the token is consumed, and the answer must not
    // fail for a reason that a retry with that token would turn into a revoked family.
    let mut resp = issue_tokens_without_refresh(state, client, &grant, &user, &groups, &scope, now).await?;
    resp.refresh_token = Some(state.master_key.locator().token(new_id, &new_secret));
    Ok(resp)
}

/// The client credentials grant (RFC 6749 §4.4): an access token in the client's own name, for
/// a confidential client registered for it. There is no user, so no ID token and no refresh
/// token (§4.4.3), and only the client's own scopes (the standard ones are about a user); with
/// no `scope`, all of them (§3.3 lets the server choose the default). Nothing is stored and
/// the registration comes from the client cache: the token is checked at introspection
/// against its client's registration.
async fn client_credentials(state: &AppState, client: &OidcClient, mut p: Params) -> AppResult<TokenResponse> {
    // A confidential client (the secret it authenticated with marks its tokens), registered.
    let epoch = client.client_credentials_epoch.as_deref();
    let Some(secret_hash) = client.secret_hash.as_deref().filter(|_| client.client_credentials()) else {
        return Err(AppError::oauth(
            UnauthorizedClient,
            "this client is not registered for the client credentials grant",
        ));
    };
    let scope = match p.take("scope") {
        Some(requested) => {
            for w in requested.split_ascii_whitespace() {
                if SCOPES_SUPPORTED.contains(&w) {
                    let d = format!("scope `{w}` is about a user, and the client credentials grant has none");
                    return Err(AppError::oauth(InvalidScope, d));
                }
                if !extra_scopes(client).any(|e| e == w) {
                    return Err(AppError::oauth(
                        InvalidScope,
                        format!("scope `{}` is not allowed for this client", shown(w)),
                    ));
                }
            }
            normalise_scope(&requested)
        }
        None => extra_scopes(client).collect::<Vec<_>>().join(" "),
    };
    let now = state.now();
    let key = state.keys().active_at(now).clone();
    let ttl = state.config.tokens.access_token_ttl_seconds;
    let claims = ClientAccessClaims {
        iss: state.issuer().to_owned(),
        sub: client.client_id.clone(),
        aud: state.issuer().to_owned(),
        client_id: client.client_id.clone(),
        iat: now,
        exp: now + ttl,
        jti: format!("{}.{}", secret_mark(secret_hash, epoch), crypto::b64url(&crypto::random_bytes::<16>())),
        scope: scope.clone(),
    };
    // As for the other grants: an RSA signature goes to the blocking pool (see below).
    let access_token = match key.alg {
        SigningAlg::RS256 => tokio::task::spawn_blocking(move || key.sign_jwt("at+jwt", &claims))
            .await
            .map_err(|e| AppError::internal(format!("signing task failed: {e}")))?,
        SigningAlg::ES256 => key.sign_jwt("at+jwt", &claims),
    };
    Ok(TokenResponse {
        access_token: access_token.into(),
        token_type: "Bearer",
        expires_in: ttl,
        refresh_token: None,
        id_token: None,
        scope,
    })
}

/// A word of a request, echoed in an error only when it is short and plain.
fn shown(w: &str) -> &str {
    let plain = w.len() <= 64 && w.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\' && b != b'`');
    if plain { w } else { "(not shown)" }
}

/// The row a presented refresh token names: by the key it carries (`crypto::locator`), or, for
/// a token issued before tokens carried one (a bare `random_token`), by its hash. `None` when
/// it names none; whether it is the row's own token is for the statement that uses it to check.
pub async fn locate_refresh_token(state: &AppState, token: &str) -> AppResult<Option<Located>> {
    if let Some(located) = state.master_key.locator().locate(token) {
        return Ok(Some(located));
    }
    if token.len() != crypto::RANDOM_TOKEN_CHARS {
        return Ok(None);
    }
    store::grants::legacy_refresh_token(&state.db, &crypto::token_hash(token)).await
}

async fn issue_tokens_without_refresh(
    state: &AppState,
    client: &OidcClient,
    grant: &Grant,
    user: &Profile,
    groups: &[String],
    scope: &str,
    now: i64,
) -> AppResult<TokenResponse> {
    if user.disabled {
        return Err(AppError::oauth(InvalidGrant, "the user is no longer active"));
    }
    let key = state.keys().active_at(now).clone();
    let cfg = &state.config.tokens;
    let lifetimes = (cfg.access_token_ttl_seconds, cfg.id_token_ttl_seconds);
    let jti = crypto::b64url(&crypto::random_bytes::<16>());
    // Two RSA signatures take about half a millisecond. On an async worker they would hold up
    // every task queued behind them, among them the one whose turn it is to write to SQLite
    // (writes queue one at a time), so the writes, and with them every grant, would advance
    // at the pace of the signatures. ES256 signs in a few dozen microseconds, in place, from
    // claims borrowed where they lie; the blocking pool needs its own copies.
    let (access_token, id_token) = match key.alg {
        SigningAlg::RS256 => {
            let owned = (state.issuer().to_owned(), client.client_id.clone(), grant.clone(), user.clone());
            let (groups, scope) = (groups.to_vec(), scope.to_owned());
            tokio::task::spawn_blocking(move || {
                let (issuer, client_id, grant, user) = &owned;
                let t = Tokens {
                    issuer,
                    client_id,
                    grant,
                    user,
                    groups: &groups,
                    scope: &scope,
                    jti: &jti,
                    now,
                    lifetimes,
                };
                t.sign(&key)
            })
            .await
            .map_err(|e| AppError::internal(format!("signing task failed: {e}")))?
        }
        SigningAlg::ES256 => {
            let client_id = &client.client_id;
            Tokens { issuer: state.issuer(), client_id, grant, user, groups, scope, jti: &jti, now, lifetimes }
                .sign(&key)
        }
    };
    Ok(TokenResponse {
        access_token: access_token.into(),
        token_type: "Bearer",
        expires_in: cfg.access_token_ttl_seconds,
        refresh_token: None,
        id_token: id_token.map(Secret::from),
        scope: scope.to_owned(),
    })
}

/// What one token response says, borrowed from the grant, the user and the request.
struct Tokens<'a> {
    issuer: &'a str,
    client_id: &'a str,
    grant: &'a Grant,
    user: &'a Profile,
    groups: &'a [String],
    scope: &'a str,
    jti: &'a str,
    now: i64,
    /// The access token's and the ID token's, in seconds.
    lifetimes: (i64, i64),
}

/// RFC 9068 §2.2 JWT access token.
#[derive(Serialize)]
struct AccessClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    client_id: &'a str,
    iat: i64,
    exp: i64,
    jti: &'a str,
    scope: &'a str,
    auth_time: i64,
    acr: &'a str,
    amr: Amr<'a>,
    sid: Option<&'a str>,
    gid: &'a str,
}

/// RFC 9068 §2.2 JWT access token of the client credentials grant: the client is the subject
/// (§2.2: `sub` names the client when no user is involved), and there is no grant (`gid`): the
/// token lives while its client is registered for the grant and has not revoked it.
#[derive(Serialize)]
struct ClientAccessClaims {
    iss: String,
    sub: String,
    aud: String,
    client_id: String,
    iat: i64,
    exp: i64,
    jti: String,
    scope: String,
}

/// OpenID Connect Core §2 ID token.
#[derive(Serialize)]
struct IdClaims<'a> {
    iss: &'a str,
    aud: &'a str,
    azp: &'a str,
    iat: i64,
    exp: i64,
    auth_time: i64,
    amr: Amr<'a>,
    acr: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    sid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    at_hash: &'a str,
    #[serde(flatten)]
    user: UserClaims<'a>,
}

impl Tokens<'_> {
    /// The access token, and the ID token when the scope asks for one (its `at_hash` is the
    /// access token's).
    fn sign(&self, key: &SigningKey) -> (String, Option<String>) {
        let (g, (access_ttl, id_ttl)) = (self.grant, self.lifetimes);
        let access_token = key.sign_jwt(
            "at+jwt",
            &AccessClaims {
                iss: self.issuer,
                sub: &self.user.id,
                aud: self.issuer,
                client_id: self.client_id,
                iat: self.now,
                exp: self.now + access_ttl,
                jti: self.jti,
                scope: self.scope,
                auth_time: g.auth_time,
                acr: &g.acr,
                amr: Amr(&g.amr),
                sid: g.session_id.as_deref(),
                gid: &g.id,
            },
        );
        let id_token = has_word(self.scope, "openid").then(|| {
            let at_hash = at_hash(&access_token);
            let claims = IdClaims {
                iss: self.issuer,
                aud: self.client_id,
                azp: self.client_id,
                iat: self.now,
                exp: self.now + id_ttl,
                auth_time: g.auth_time,
                amr: Amr(&g.amr),
                acr: &g.acr,
                sid: g.session_id.as_deref(),
                nonce: g.nonce.as_deref(),
                at_hash: &at_hash,
                user: UserClaims::released(self.user, self.groups, self.scope),
            };
            key.sign_jwt("JWT", &claims)
        });
        (access_token, id_token)
    }
}

/// A verified, unexpired access token of ours whose grant is still in force, or, for a token of
/// the client credentials grant, whose client is still registered for that grant and has not
/// revoked it.
pub struct AccessToken {
    pub claims: Value,
}

impl AccessToken {
    fn str(&self, k: &str) -> &str {
        self.claims.get(k).and_then(Value::as_str).unwrap_or("")
    }

    /// The grant it was issued under; `None` for the client's own token (no user).
    fn grant_id(&self) -> Option<&str> {
        self.claims.get("gid").and_then(Value::as_str)
    }
}

pub async fn verify_access_token(state: &AppState, token: &str) -> AppResult<Option<AccessToken>> {
    let ring = state.keys();
    let verified = match ring.verify_jwt(token) {
        None if ring.lacks_kid_of(token) && state.reload_keys_for_unknown_kid().await? => {
            state.keys().verify_jwt(token)
        }
        v => v,
    };
    let Some((typ, claims)) = verified else { return Ok(None) };
    let at = AccessToken { claims };
    let exp = at.claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
    if typ != "at+jwt" || at.str("iss") != state.issuer() || exp <= state.now() {
        return Ok(None);
    }
    let in_force = match at.grant_id() {
        Some(gid) => store::grants::is_active(&state.db, gid).await?,
        None => client_token_in_force(state, &at).await?,
    };
    Ok(in_force.then_some(at))
}

/// A client's own token (the client credentials grant's) is in force while its client is
/// registered, still confidential and still allowed the grant, was issued under its current
/// secret since the grant was last turned on (`secret_mark`), and has not been revoked.
/// Removing the app, turning the grant off or replacing the secret ends its tokens at once (on
/// another node, within the client cache's recheck).
async fn client_token_in_force(state: &AppState, at: &AccessToken) -> AppResult<bool> {
    let client_id = at.str("client_id");
    if client_id.is_empty() || at.str("sub") != client_id {
        return Ok(false);
    }
    let Some(client) = state.clients.find(&state.db, client_id).await? else { return Ok(false) };
    let (Some(secret_hash), Some(since)) = (client.secret_hash.as_deref(), client.client_credentials_since()) else {
        return Ok(false);
    };
    // A token issued before tokens carried the mark (within an access token lifetime of the
    // upgrade) has only its issue time, which a replaced secret also restarts.
    let epoch = client.client_credentials_epoch.as_deref();
    if at.str("jti").split_once('.').is_some_and(|(mark, _)| mark != secret_mark(secret_hash, epoch)) {
        return Ok(false);
    }
    let iat = at.claims.get("iat").and_then(Value::as_i64).unwrap_or(i64::MIN);
    if iat < since {
        return Ok(false);
    }
    Ok(!store::grants::client_token_revoked(&state.db, at.str("jti")).await?)
}

/// Userinfo (OpenID Connect Core §5.3) for a bearer token (RFC 6750 §2.1).
pub async fn userinfo(state: &AppState, authorization: Option<&str>) -> AppResult<Value> {
    let invalid = || AppError::oauth(InvalidToken, "the access token is invalid or expired");
    let token = authorization
        .and_then(|h| h.split_once(' '))
        .filter(|(s, _)| s.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
        .ok_or_else(|| AppError::oauth(InvalidToken, "a bearer access token is required"))?;
    let at = verify_access_token(state, token).await?.ok_or_else(invalid)?;
    if at.grant_id().is_none() {
        // OpenID Connect Core §5.3: userinfo returns claims about the end-user; a client's own
        // token names none.
        return Err(AppError::oauth(InvalidToken, "this access token was issued to a client, not for a user"));
    }
    let scope = at.str("scope").to_owned();
    if !has_word(&scope, "openid") {
        return Err(AppError::InsufficientScope("userinfo needs the openid scope".into()));
    }
    let user =
        store::users::find_profile(&state.db, at.str("sub")).await?.filter(|u| !u.disabled).ok_or_else(invalid)?;
    let groups = released_groups(state, &user, &scope).await?;
    serde_json::to_value(UserClaims::released(&user, &groups, &scope)).map_err(|e| AppError::internal(e.to_string()))
}

enum FoundToken {
    Access(AccessToken),
    Refresh { grant: Box<Grant>, used: bool, expires_at: i64 },
}

async fn find_token(state: &AppState, token: &str, hint: Option<&str>) -> AppResult<Option<FoundToken>> {
    // The hint only orders the look-ups (RFC 7009 §2.1).
    let refresh_first = hint == Some("refresh_token");
    for attempt in 0..2 {
        if (attempt == 0) == refresh_first {
            if let Some(located) = locate_refresh_token(state, token).await?
                && let Some((grant, used, expires_at)) =
                    store::grants::find_by_refresh_token(&state.db, &located).await?
            {
                return Ok(Some(FoundToken::Refresh { grant: Box::new(grant), used, expires_at }));
            }
        } else if token.len() < 8192
            && let Some(at) = verify_access_token(state, token).await?
        {
            return Ok(Some(FoundToken::Access(at)));
        }
    }
    Ok(None)
}

/// RFC 7009. Revoking either token revokes the grant it belongs to (§2.1 allows revoking
/// the related tokens); unknown tokens and other clients' tokens get 200 all the same (§2.2).
pub async fn revoke(state: &AppState, mut p: Params, authorization: Option<&str>) -> AppResult<()> {
    let client = authenticate_client(state, &mut p, authorization).await?;
    let token = p.take("token").ok_or_else(|| AppError::oauth(InvalidRequest, "token is required"))?;
    let grant_id = match find_token(state, &token, p.get("token_type_hint")).await? {
        Some(FoundToken::Access(at)) if at.str("client_id") == client.client_id => match at.grant_id() {
            Some(gid) => Some(gid.to_owned()),
            None => {
                // The client's own token: it has no grant, so it is revoked by itself.
                let exp = at.claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
                store::grants::revoke_client_token(&state.db, at.str("jti"), &client.client_id, exp).await?;
                None
            }
        },
        Some(FoundToken::Refresh { grant, .. }) if grant.client_id == client.client_id => Some(grant.id),
        _ => None,
    };
    if let Some(gid) = grant_id {
        store::grants::revoke(&state.db, &gid, state.now()).await?;
    }
    Ok(())
}

/// RFC 7662. Only confidential clients may introspect, and only their own tokens (§4: the
/// endpoint must not become a token-scanning oracle).
pub async fn introspect(state: &AppState, mut p: Params, authorization: Option<&str>) -> AppResult<Value> {
    let client = authenticate_client(state, &mut p, authorization).await?;
    if client.is_public() {
        return Err(AppError::oauth(InvalidClient, "public clients cannot introspect"));
    }
    let token = p.take("token").ok_or_else(|| AppError::oauth(InvalidRequest, "token is required"))?;
    let now = state.now();
    let inactive = json!({"active": false});
    Ok(match find_token(state, &token, p.get("token_type_hint")).await? {
        Some(FoundToken::Access(at)) if at.str("client_id") == client.client_id => {
            let mut v = json!({
                "active": true,
                "token_type": "Bearer",
                "scope": at.str("scope"),
                "client_id": at.str("client_id"),
                "sub": at.str("sub"),
                "aud": at.claims.get("aud"),
                "iss": at.str("iss"),
                "exp": at.claims.get("exp"),
                "iat": at.claims.get("iat"),
                "jti": at.str("jti"),
            });
            // A client's own token names no user, so nothing about how one signed in.
            if at.grant_id().is_some() {
                // How the user authenticated, for resource servers deciding on step-up.
                for k in ["auth_time", "acr", "amr"] {
                    v[k] = at.claims.get(k).cloned().unwrap_or(Value::Null);
                }
                if let Some(u) = store::users::find_profile(&state.db, at.str("sub")).await? {
                    v["username"] = json!(u.username);
                }
            }
            v
        }
        Some(FoundToken::Refresh { grant, used, expires_at })
            if grant.client_id == client.client_id && !used && expires_at > now && grant.revoked_at.is_none() =>
        {
            json!({
                "active": true,
                "token_type": "refresh_token",
                "scope": grant.scope,
                "client_id": grant.client_id,
                "sub": grant.user_id,
                "iss": state.issuer(),
                "exp": expires_at,
                "auth_time": grant.auth_time,
                "acr": grant.acr,
                "amr": Amr(&grant.amr),
            })
        }
        _ => inactive,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_header_is_form_decoded() {
        let h = format!("Basic {}", STANDARD.encode("my%20client:s%3Acret"));
        assert_eq!(parse_basic(&h), Some(("my client".into(), "s:cret".into())));
        assert_eq!(parse_basic("Bearer x"), None);
        assert_eq!(parse_basic("Basic !!!"), None);
    }

    #[test]
    fn secret_mark_tells_secrets_apart() {
        let (a, b) = (client_secret_hash("one secret"), client_secret_hash("another secret"));
        assert_eq!(secret_mark(&a, None), secret_mark(&a, None));
        assert_ne!(secret_mark(&a, None), secret_mark(&b, None));
        // And the grant's turnings-on apart.
        assert_eq!(secret_mark(&a, Some("e1")), secret_mark(&a, Some("e1")));
        assert_ne!(secret_mark(&a, Some("e1")), secret_mark(&a, Some("e2")));
        assert_ne!(secret_mark(&a, Some("e1")), secret_mark(&a, None));
        // A client without an epoch (its grant not turned on since epochs came) marks its
        // tokens as before them: tokens issued before the upgrade stay in force through it.
        let before_epochs = crypto::b64url(&crypto::sha256(format!("portcullis client token\0{a}").as_bytes())[..6]);
        assert_eq!(secret_mark(&a, None), before_epochs);
        // It ends at the first dot of a `jti`.
        assert_eq!(secret_mark(&a, Some("e1")).len(), 8);
        assert!(!secret_mark(&a, None).contains('.'));
    }

    #[test]
    fn verifier_shape() {
        assert!(is_valid_verifier(&"a".repeat(43)));
        assert!(!is_valid_verifier(&"a".repeat(42)));
        assert!(!is_valid_verifier(&format!("{}+", "a".repeat(43))));
    }
}
