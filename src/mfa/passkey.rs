//! Passkeys (WebAuthn Level 3 through webauthn-rs), as a second factor with user
//! verification required. The relying-party id is the issuer's host and the only accepted
//! origin is the issuer's origin. Ceremony state lives in the database (any node can finish
//! what another began), answers once and expires after `CEREMONY_SECONDS`.

use serde::Serialize;
use webauthn_rs::prelude::{
    CreationChallengeResponse, Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, RequestChallengeResponse, Url, Uuid, Webauthn, WebauthnBuilder,
};

use crate::crypto;
use crate::error::{AppError, AppResult, Msg};
use crate::state::AppState;
use crate::store;
use crate::store::passkeys::PasskeyInfo;
use crate::store::users::User;

/// How long a begun ceremony can be finished.
pub const CEREMONY_SECONDS: i64 = 300;
/// Passkeys one user may hold.
pub const MAX_PER_USER: usize = 20;
/// Longest passkey name kept.
const MAX_NAME_CHARS: usize = 64;

const REGISTER: &str = "register";
const AUTHENTICATE: &str = "authenticate";

/// The WebAuthn relying party for this issuer, or why there is none (an IP address cannot
/// be a relying-party id).
pub struct RelyingParty(Result<Webauthn, String>);

impl std::fmt::Debug for RelyingParty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("RelyingParty").field(&self.0.as_ref().map(|_| "webauthn")).finish()
    }
}

impl RelyingParty {
    pub fn for_issuer(issuer: &str) -> RelyingParty {
        RelyingParty(Self::build(issuer))
    }

    fn build(issuer: &str) -> Result<Webauthn, String> {
        let url = Url::parse(issuer).map_err(|e| format!("issuer is not a URL: {e}"))?;
        let Some(host) = url.domain() else {
            return Err(format!(
                "passkeys need a domain name in the issuer URL; `{}` is an address",
                url.host_str().unwrap_or_default()
            ));
        };
        let origin = Url::parse(&url.origin().ascii_serialization()).map_err(|e| e.to_string())?;
        WebauthnBuilder::new(host, &origin)
            .and_then(|b| b.rp_name("Portcullis").build())
            .map_err(|e| format!("cannot set up WebAuthn for {host}: {e}"))
    }

    pub fn available(&self) -> bool {
        self.0.is_ok()
    }

    fn get(&self) -> AppResult<&Webauthn> {
        self.0.as_ref().map_err(|why| AppError::Forbidden(Msg::key("refuse-passkeys-unavailable").with("why", why)))
    }
}

/// WebAuthn user handle: the user's UUID (not personal, stable across renames).
fn user_handle(user: &User) -> Uuid {
    Uuid::parse_str(&user.id).unwrap_or_else(|_| {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, user.id.as_bytes());
        let mut b = [0u8; 16];
        b.copy_from_slice(&digest.as_ref()[..16]);
        Uuid::from_bytes(b)
    })
}

fn to_json<T: Serialize>(v: &T) -> AppResult<String> {
    serde_json::to_string(v).map_err(|e| AppError::internal(format!("webauthn state: {e}")))
}

fn load_passkeys(rows: &[store::passkeys::StoredPasskey]) -> AppResult<Vec<(String, Passkey)>> {
    rows.iter()
        .map(|r| {
            serde_json::from_str::<Passkey>(&r.credential)
                .map(|p| (r.id.clone(), p))
                .map_err(|e| AppError::internal(format!("stored passkey {}: {e}", r.id)))
        })
        .collect()
}

/// A name fit to show: trimmed, control characters dropped, bounded.
pub fn clean_name(name: &str) -> String {
    let name: String = name.chars().filter(|c| !c.is_control()).take(MAX_NAME_CHARS).collect();
    let name = name.trim();
    if name.is_empty() { "Passkey".to_owned() } else { name.to_owned() }
}

/// Begins registering a passkey for `user`. Returns the ceremony id (to pass back on
/// finish) and the options for `navigator.credentials.create`.
pub async fn begin_registration(state: &AppState, user: &User) -> AppResult<(String, CreationChallengeResponse)> {
    let wa = state.passkeys.get()?;
    let existing = load_passkeys(&store::passkeys::credentials(&state.db, &user.id).await?)?;
    if existing.len() >= MAX_PER_USER {
        return Err(AppError::Conflict(Msg::key("refuse-passkeys-max").with("count", MAX_PER_USER)));
    }
    let exclude = existing.iter().map(|(_, p)| p.cred_id().clone()).collect();
    let display = user.display_name.as_deref().unwrap_or(&user.username);
    let (options, reg) = wa
        .start_passkey_registration(user_handle(user), &user.username, display, Some(exclude))
        .map_err(|e| AppError::internal(format!("webauthn registration: {e}")))?;
    let id = crypto::random_token();
    let expires = state.now() + CEREMONY_SECONDS;
    store::passkeys::put_challenge(&state.db, &crypto::token_hash(&id), &user.id, REGISTER, &to_json(&reg)?, expires)
        .await?;
    Ok((id, options))
}

/// Finishes a registration begun by `begin_registration` for the same user.
pub async fn finish_registration(
    state: &AppState,
    user: &User,
    ceremony: &str,
    credential: &RegisterPublicKeyCredential,
    name: &str,
) -> AppResult<PasskeyInfo> {
    let wa = state.passkeys.get()?;
    let now = state.now();
    let reg = store::passkeys::take_challenge(&state.db, &crypto::token_hash(ceremony), &user.id, REGISTER, now)
        .await?
        .ok_or_else(|| AppError::BadRequest(Msg::key("refuse-passkey-registration-expired")))?;
    let reg: PasskeyRegistration =
        serde_json::from_str(&reg).map_err(|e| AppError::internal(format!("webauthn state: {e}")))?;
    let passkey = wa.finish_passkey_registration(credential, &reg).map_err(|e| {
        tracing::info!(error = %e, user_id = %user.id, "passkey registration refused");
        AppError::BadRequest(Msg::key("refuse-passkey-registration").with("why", e))
    })?;
    let cred_id = crypto::b64url(passkey.cred_id().as_ref());
    match store::passkeys::insert(&state.db, &user.id, &clean_name(name), &cred_id, &to_json(&passkey)?, now).await {
        Err(e) if e.is_unique_violation() => Err(AppError::Conflict(Msg::key("refuse-passkey-known"))),
        other => other,
    }
}

/// The ceremony id of an authentication bound to an MFA transaction.
fn authentication_id(binding: &str) -> String {
    format!("auth:{}", crypto::token_hash(binding))
}

/// Begins authenticating `user` with one of their passkeys, bound to `binding` (the MFA
/// transaction token): a new begin replaces the previous challenge.
pub async fn begin_authentication(state: &AppState, user: &User, binding: &str) -> AppResult<RequestChallengeResponse> {
    let wa = state.passkeys.get()?;
    let passkeys: Vec<Passkey> =
        load_passkeys(&store::passkeys::credentials(&state.db, &user.id).await?)?.into_iter().map(|(_, p)| p).collect();
    if passkeys.is_empty() {
        return Err(AppError::Forbidden(Msg::key("refuse-no-passkey")));
    }
    let (options, auth) = wa
        .start_passkey_authentication(&passkeys)
        .map_err(|e| AppError::internal(format!("webauthn authentication: {e}")))?;
    let expires = state.now() + CEREMONY_SECONDS;
    store::passkeys::put_challenge(
        &state.db,
        &authentication_id(binding),
        &user.id,
        AUTHENTICATE,
        &to_json(&auth)?,
        expires,
    )
    .await?;
    Ok(options)
}

/// Verifies an assertion against the challenge bound to `binding`. The challenge is used up
/// whatever the outcome. `Ok(false)` is a failed verification (counted by the caller).
pub async fn verify(state: &AppState, user: &User, binding: &str, credential: &PublicKeyCredential) -> AppResult<bool> {
    let wa = state.passkeys.get()?;
    let now = state.now();
    let Some(auth) =
        store::passkeys::take_challenge(&state.db, &authentication_id(binding), &user.id, AUTHENTICATE, now).await?
    else {
        return Err(AppError::BadRequest(Msg::key("refuse-passkey-challenge-expired")));
    };
    let auth: PasskeyAuthentication =
        serde_json::from_str(&auth).map_err(|e| AppError::internal(format!("webauthn state: {e}")))?;
    let result = match wa.finish_passkey_authentication(credential, &auth) {
        Ok(r) => r,
        Err(e) => {
            tracing::info!(error = %e, user_id = %user.id, "passkey assertion refused");
            return Ok(false);
        }
    };
    let stored = load_passkeys(&store::passkeys::credentials(&state.db, &user.id).await?)?;
    let Some((id, mut passkey)) = stored.into_iter().find(|(_, p)| p.cred_id() == result.cred_id()) else {
        // Removed between begin and finish.
        return Ok(false);
    };
    let updated = match passkey.update_credential(&result) {
        Some(true) => Some(to_json(&passkey)?),
        _ => None,
    };
    store::passkeys::record_use(&state.db, &id, updated.as_deref(), now).await?;
    Ok(true)
}
