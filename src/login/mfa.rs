//! The second half of a login: an MFA transaction (`mfa_token` / `enrollment_token`) is
//! challenged, or the user enrols a factor, and only then does a session exist. Every
//! attempt counts against the account's failure budget across sessions and nodes.

use super::{Client, MfaPending, Stage};
use crate::audit::{self, event};
use crate::crypto::{self, Secret};
use crate::error::{AppError, AppResult, Msg};
use crate::mfa::policy::{Factor, Verdict, parse_factors};
use crate::mfa::{backup, limits, oob, passkey, totp};
use crate::state::AppState;
use crate::store;
use crate::store::mfa_transactions::{MfaTransaction, TxnStage};
use crate::store::sessions::Session;
use crate::store::users::User;
use webauthn_rs::prelude::{
    CreationChallengeResponse, PublicKeyCredential, RegisterPublicKeyCredential, RequestChallengeResponse,
};

/// A login whose MFA step is complete.
#[derive(Debug)]
pub struct Completed {
    pub session: Session,
    pub user: User,
    /// Set when the session is new: the cookie value.
    pub new_session_token: Option<Secret>,
    /// One-time token to trust this device, when allowed (`POST /api/v1/me/devices`).
    pub trust_token: Option<Secret>,
    pub request_id: Option<String>,
    /// The user chose "set up later" for a required enrolment.
    pub postponed: bool,
    /// The plugin verdict of this login, reused when the login continues (`None`: none was
    /// evaluated).
    pub plugin_verdict: Option<Option<Verdict>>,
    /// `trust_token` may trust the device. When false it only continues the login (after the
    /// backup codes were shown).
    pub trust_offered: bool,
    /// A new set of backup codes, made because the user enrolled a factor and had none left:
    /// shown once, now.
    pub backup_codes: Option<Vec<String>>,
}

#[derive(Debug)]
pub enum Progress {
    /// The challenge is passed; now a factor must be enrolled.
    Enroll(MfaPending),
    Completed(Box<Completed>),
}

fn expired() -> AppError {
    AppError::MfaStepExpired
}

/// The live transaction behind a token, with its (active) user.
pub async fn find(state: &AppState, token: &str) -> AppResult<(MfaTransaction, User)> {
    let txn = store::mfa_transactions::find_live(&state.db, &crypto::token_hash(token), state.now())
        .await?
        .ok_or_else(expired)?;
    let user = store::users::find_by_id(&state.db, &txn.user_id).await?.filter(|u| !u.disabled).ok_or_else(expired)?;
    Ok((txn, user))
}

pub fn pending(token: &str, txn: &MfaTransaction) -> MfaPending {
    MfaPending {
        token: token.into(),
        stage: if txn.stage == TxnStage::Enroll { Stage::Enroll } else { Stage::Challenge },
        challenge: parse_factors(&txn.challenge),
        enroll: parse_factors(&txn.enroll),
        can_postpone: txn.can_postpone,
    }
}

/// What the user offers as their second factor.
#[derive(Debug, Clone, Copy)]
pub enum Proof<'a> {
    Totp(&'a str),
    BackupCode(&'a str),
    Passkey(&'a PublicKeyCredential),
    /// A code sent to the user's phone or mailbox for this sign-in (`send_code`).
    SentCode(Factor, &'a str),
}

impl Proof<'_> {
    pub fn factor(&self) -> Factor {
        match self {
            Proof::Totp(_) => Factor::Totp,
            Proof::BackupCode(_) => Factor::BackupCode,
            Proof::Passkey(_) => Factor::Passkey,
            Proof::SentCode(kind, _) => *kind,
        }
    }
}

/// Sends a sign-in code by SMS or email for the challenge stage, bound to this transaction.
pub async fn send_code(state: &AppState, token: &str, kind: Factor, client: &Client) -> AppResult<oob::Sent> {
    let (_, user) = challenge(state, token, kind).await?;
    limits::check(state, &[&limits::mfa_key(&user.id)]).await?;
    let factor = store::oob::find(&state.db, &user.id, kind).await?.ok_or_else(expired)?;
    let binding = crypto::token_hash(token);
    oob::send(state, &user, kind, store::oob::Purpose::Login, &factor.destination, &binding, &client.origin).await
}

/// Checks a sent code: right, unused, for this transaction, and sent to the factor's
/// destination as it is now (not one since replaced or removed).
async fn verify_sent_code(state: &AppState, user: &User, token: &str, kind: Factor, code: &str) -> AppResult<bool> {
    let Some(sent_to) = oob::check_and_use(state, &user.id, kind, &crypto::token_hash(token), code).await? else {
        return Ok(false);
    };
    match store::oob::find(&state.db, &user.id, kind).await? {
        Some(f) if f.destination == sent_to => {
            store::oob::touch(&state.db, &f.id, state.now()).await?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// The live transaction in its challenge stage, offering `factor`.
async fn challenge(state: &AppState, token: &str, factor: Factor) -> AppResult<(MfaTransaction, User)> {
    let (txn, user) = find(state, token).await?;
    if txn.stage != TxnStage::Challenge {
        return Err(expired());
    }
    if !parse_factors(&txn.challenge).contains(&factor) {
        return Err(AppError::BadRequest(Msg::key("refuse-factor-not-offered").with("factor", factor.as_str())));
    }
    Ok((txn, user))
}

/// Begins a passkey assertion for the challenge stage: the options for
/// `navigator.credentials.get`.
pub async fn begin_passkey(state: &AppState, token: &str) -> AppResult<RequestChallengeResponse> {
    let (_, user) = challenge(state, token, Factor::Passkey).await?;
    limits::check(state, &[&limits::mfa_key(&user.id)]).await?;
    passkey::begin_authentication(state, &user, token).await
}

/// Verifies the second factor for the challenge stage.
pub async fn verify(state: &AppState, token: &str, proof: Proof<'_>, client: &Client) -> AppResult<Progress> {
    let factor = proof.factor();
    let (txn, user) = challenge(state, token, factor).await?;
    let attempt = limits::reserve_mfa(state, &user.id).await?;
    let ok = match proof {
        Proof::Totp(code) => totp::verify(state, &user, code, false).await?,
        Proof::BackupCode(code) => backup::verify(state, &user.id, code).await?,
        Proof::Passkey(credential) => passkey::verify(state, &user, token, credential).await?,
        Proof::SentCode(kind, code) => verify_sent_code(state, &user, token, kind, code).await?,
    };
    if !ok {
        return failed(state, &user, &txn, attempt, factor, client).await;
    }
    attempt.succeeded(state).await?;
    audit::record(
        state,
        event::MFA_PASSED,
        Some(&user.id),
        txn.app_id.as_deref(),
        &client.origin,
        Some(factor.as_str()),
    )
    .await?;
    if factor == Factor::BackupCode {
        let left = store::factors::backup_code_status(&state.db, &user.id).await?.remaining.to_string();
        audit::record(
            state,
            event::BACKUP_CODE_USED,
            Some(&user.id),
            txn.app_id.as_deref(),
            &client.origin,
            Some(&left),
        )
        .await?;
    }
    advance(state, token, txn, user, Move { from: TxnStage::Challenge, factor: Some(factor), postponed: false }, client)
        .await
}

async fn failed(
    state: &AppState,
    user: &User,
    txn: &MfaTransaction,
    attempt: limits::Attempt,
    factor: Factor,
    client: &Client,
) -> AppResult<Progress> {
    audit::record(
        state,
        event::MFA_FAILED,
        Some(&user.id),
        txn.app_id.as_deref(),
        &client.origin,
        Some(factor.as_str()),
    )
    .await?;
    attempt.failed(state, Some(&user.id), &client.origin).await?;
    Err(AppError::InvalidFactor)
}

/// The live transaction in its enrolment stage, offering `factor`.
async fn enrolment(state: &AppState, token: &str, factor: Factor) -> AppResult<(MfaTransaction, User)> {
    let (txn, user) = find(state, token).await?;
    match txn.stage {
        TxnStage::Enroll => {}
        TxnStage::Challenge => {
            return Err(AppError::Forbidden(Msg::key("refuse-factor-before-step")));
        }
        TxnStage::Done => return Err(expired()),
    }
    if !parse_factors(&txn.enroll).contains(&factor) {
        return Err(AppError::Forbidden(Msg::key("refuse-factor-not-here").with("factor", factor.as_str())));
    }
    // The settings may have changed since the step was decided.
    crate::mfa::manage::require_allowed(state, factor).await?;
    Ok((txn, user))
}

/// Starts TOTP enrolment inside the enrolment stage.
/// In a recovery session an authenticator app already set up is replaced (the old phone is
/// lost), the old secret staying in force until the new one is proved.
pub async fn begin_totp_enrolment(state: &AppState, token: &str) -> AppResult<(totp::Enrolment, User)> {
    let (txn, user) = enrolment(state, token, Factor::Totp).await?;
    let e = match txn.recovery {
        Some(_) => totp::begin_replacement(state, &user).await?,
        None => totp::begin_enrolment(state, &user).await?,
    };
    Ok((e, user))
}

/// Confirms TOTP enrolment with a first code; that code is also this login's second factor.
pub async fn confirm_totp_enrolment(state: &AppState, token: &str, code: &str, client: &Client) -> AppResult<Progress> {
    let (txn, user) = enrolment(state, token, Factor::Totp).await?;
    let attempt = limits::reserve_mfa(state, &user.id).await?;
    let ok = match txn.recovery {
        Some(_) => totp::confirm_replacement(state, &user, code).await?,
        None => totp::verify(state, &user, code, true).await?,
    };
    if !ok {
        return failed(state, &user, &txn, attempt, Factor::Totp, client).await;
    }
    attempt.succeeded(state).await?;
    enrolled(state, token, txn, user, Factor::Totp, client).await
}

/// Starts setting up SMS (to `phone`) or email (to the account's address) codes inside the
/// enrolment stage: a code is sent, bound to this transaction.
pub async fn begin_oob_enrolment(
    state: &AppState,
    token: &str,
    kind: Factor,
    phone: Option<&str>,
    client: &Client,
) -> AppResult<(oob::Sent, String)> {
    let (_, user) = enrolment(state, token, kind).await?;
    let input = match kind {
        Factor::Email => user
            .email
            .clone()
            .filter(|e| !e.is_empty())
            .ok_or_else(|| AppError::BadRequest(Msg::key("refuse-no-email")))?,
        _ => phone.unwrap_or_default().to_owned(),
    };
    let destination = oob::destination(state, kind, &input)?;
    let binding = crypto::token_hash(token);
    let sent =
        oob::send(state, &user, kind, store::oob::Purpose::Enroll, &destination, &binding, &client.origin).await?;
    Ok((sent, destination))
}

/// Confirms the set-up with the code that was sent; proving the destination is also this
/// login's second factor.
pub async fn confirm_oob_enrolment(
    state: &AppState,
    token: &str,
    kind: Factor,
    code: &str,
    client: &Client,
) -> AppResult<Progress> {
    let (txn, user) = enrolment(state, token, kind).await?;
    let attempt = limits::reserve_mfa(state, &user.id).await?;
    let binding = crypto::token_hash(token);
    let confirmed = match oob::check(state, &user.id, kind, store::oob::Purpose::Enroll, &binding, code).await? {
        Some((code_id, destination)) => {
            store::oob::confirm(&state.db, &user.id, kind, &destination, &code_id, state.now()).await?
        }
        None => None,
    };
    if confirmed.is_none() {
        return failed(state, &user, &txn, attempt, kind, client).await;
    }
    attempt.succeeded(state).await?;
    enrolled(state, token, txn, user, kind, client).await
}

/// Starts registering a passkey inside the enrolment stage.
pub async fn begin_passkey_enrolment(state: &AppState, token: &str) -> AppResult<(String, CreationChallengeResponse)> {
    let (_, user) = enrolment(state, token, Factor::Passkey).await?;
    passkey::begin_registration(state, &user).await
}

/// Finishes registering a passkey inside the enrolment stage; creating it with user
/// verification is this login's second factor.
pub async fn finish_passkey_enrolment(
    state: &AppState,
    token: &str,
    ceremony: &str,
    credential: &RegisterPublicKeyCredential,
    name: &str,
    client: &Client,
) -> AppResult<Progress> {
    let (txn, user) = enrolment(state, token, Factor::Passkey).await?;
    passkey::finish_registration(state, &user, ceremony, credential, name).await?;
    enrolled(state, token, txn, user, Factor::Passkey, client).await
}

async fn enrolled(
    state: &AppState,
    token: &str,
    txn: MfaTransaction,
    user: User,
    factor: Factor,
    client: &Client,
) -> AppResult<Progress> {
    audit::record(
        state,
        event::FACTOR_ENROLLED,
        Some(&user.id),
        txn.app_id.as_deref(),
        &client.origin,
        Some(factor.as_str()),
    )
    .await?;
    advance(state, token, txn, user, Move { from: TxnStage::Enroll, factor: Some(factor), postponed: false }, client)
        .await
}

/// "Set up later", inside the grace period.
pub async fn postpone(state: &AppState, token: &str, client: &Client) -> AppResult<Progress> {
    let (txn, user) = find(state, token).await?;
    if txn.stage != TxnStage::Enroll || !txn.can_postpone || user.mfa_enroll_deadline.is_some_and(|d| d <= state.now())
    {
        return Err(AppError::Forbidden(Msg::key("refuse-no-postpone")));
    }
    audit::record(state, event::MFA_ENROLLMENT_POSTPONED, Some(&user.id), txn.app_id.as_deref(), &client.origin, None)
        .await?;
    advance(state, token, txn, user, Move { from: TxnStage::Enroll, factor: None, postponed: true }, client).await
}

/// One step of a transaction: from which stage, with which verified factor (if any), and
/// whether the user postponed enrolment.
struct Move {
    from: TxnStage,
    factor: Option<Factor>,
    postponed: bool,
}

/// Moves the transaction on, exactly once; at the end the session is created (or the
/// existing one records the factor).
async fn advance(
    state: &AppState,
    token: &str,
    txn: MfaTransaction,
    user: User,
    m: Move,
    client: &Client,
) -> AppResult<Progress> {
    let Move { from, factor, postponed } = m;
    let to = if from == TxnStage::Challenge && !txn.enroll.is_empty() { TxnStage::Enroll } else { TxnStage::Done };
    let now = state.now();
    let token_hash = crypto::token_hash(token);
    if !store::mfa_transactions::advance(&state.db, &token_hash, from, to, factor.map(Factor::as_str), now).await? {
        return Err(expired());
    }
    if to == TxnStage::Enroll {
        let mut p = pending(token, &txn);
        p.stage = Stage::Enroll;
        return Ok(Progress::Enroll(p));
    }
    let factor = factor.or_else(|| txn.verified_factor.as_deref().and_then(Factor::parse));
    if let (Some(recovery), Some(f)) = (txn.recovery, factor) {
        crate::mfa::recovery::complete(state, &txn, &user, recovery, f, &client.origin).await?;
    }
    let (session, new_session_token) = match &txn.session_id {
        Some(id) => {
            let idle = state.config.session.idle_timeout_minutes * 60;
            let session = store::sessions::find_live_by_id(&state.db, id, now, idle).await?.ok_or_else(expired)?;
            let session = match factor {
                Some(f) => {
                    store::sessions::record_mfa(&state.db, &session.id, f.as_str(), now).await?.ok_or_else(expired)?
                }
                None => session,
            };
            audit::record(
                state,
                event::LOGIN_SUCCESS,
                Some(&user.id),
                txn.app_id.as_deref(),
                &client.origin,
                factor.map(Factor::as_str),
            )
            .await?;
            (session, None)
        }
        None => {
            // The session and its audit record; the waiting request is answered after (the
            // trust-device prompt or the new backup codes may come first).
            let app_id = txn.app_id.as_deref();
            let s = super::new_session(state, &user, txn.auth_time, factor, app_id, client, None, None)
                .await?
                .ok_or_else(|| AppError::internal("a session without a request to answer was not written"))?;
            (s.session, Some(s.token))
        }
    };
    // A factor was just set up: the way back in comes with it, if the user has none left.
    let backup_codes = match (from, factor) {
        (TxnStage::Enroll, Some(_)) => crate::mfa::manage::offer_backup_codes(state, &user, &client.origin).await?,
        _ => None,
    };
    // The transaction lingers (as `done`) to hand out the device trust, or to continue the
    // login once the new backup codes were read.
    let trust_offered = txn.allow_trust && factor.is_some() && !postponed;
    let trust_token = if trust_offered || backup_codes.is_some() {
        let t = Secret::random();
        store::mfa_transactions::set_trust_token(&state.db, &token_hash, &crypto::token_hash(&t)).await?;
        Some(t)
    } else {
        store::mfa_transactions::delete(&state.db, &token_hash).await?;
        None
    };
    Ok(Progress::Completed(Box::new(Completed {
        session,
        user,
        new_session_token,
        trust_token,
        request_id: txn.request_id,
        postponed,
        plugin_verdict: txn.plugin.carried()?,
        trust_offered,
        backup_codes,
    })))
}

/// Continues the login after a completed step: the waiting request (if any) goes through
/// the MFA step once more with the session, whose cookie this request does not carry yet.
pub async fn continue_login(state: &AppState, done: &Completed, client: &Client) -> AppResult<super::Next> {
    let client = Client { session_token: done.new_session_token.clone(), ..client.clone() };
    super::continue_request(
        state,
        &done.session,
        &done.user,
        done.request_id.as_deref(),
        &client,
        done.postponed,
        done.plugin_verdict.as_ref(),
    )
    .await
}

/// Trusts the device with a one-time trust token from a completed MFA step. The user must be
/// the one signed in. Returns the device's cookie value and row, and the plugin verdict of the
/// login the token came from (for the login to continue with).
pub async fn trust_device(
    state: &AppState,
    user_id: &str,
    trust_token: &str,
    name: &str,
    client: &Client,
) -> AppResult<(Secret, store::devices::Device, Option<Option<Verdict>>)> {
    let settings = store::settings::load(&state.db).await?;
    let txn = store::mfa_transactions::take_trust_token(&state.db, &crypto::token_hash(trust_token), state.now())
        .await?
        .ok_or_else(|| AppError::BadRequest(Msg::key("refuse-trust-token")))?;
    if txn.user_id != user_id {
        return Err(AppError::Forbidden("the trust-device token belongs to another user".into()));
    }
    if !txn.allow_trust {
        return Err(AppError::Forbidden("this sign-in may not trust the device".into()));
    }
    let (token, device) =
        crate::mfa::devices::trust(state, user_id, name, settings.trusted_device_duration_days).await?;
    audit::record(state, event::DEVICE_TRUSTED, Some(user_id), None, &client.origin, Some(&device.name)).await?;
    Ok((token, device, txn.plugin.carried()?))
}

/// The user declined to trust this device: the trust token is used up, and the plugin verdict
/// of its login (when the token is this user's) is what the login continues with.
pub async fn decline_trust(state: &AppState, user_id: &str, trust_token: &str) -> AppResult<Option<Option<Verdict>>> {
    let txn =
        store::mfa_transactions::take_trust_token(&state.db, &crypto::token_hash(trust_token), state.now()).await?;
    match txn {
        Some(t) if t.user_id == user_id => t.plugin.carried(),
        _ => Ok(None),
    }
}

/// What the user answered to "trust this browser?" after the MFA step.
pub enum TrustAnswer<'a> {
    /// Trust it, under this name.
    Yes {
        name: &'a str,
    },
    No,
}

/// After the trust prompt: trusts the device or not (the trust token is used up either way),
/// then continues the login it interrupted with that login's plugin verdict. The device's
/// cookie value and row when it was trusted, and where the login goes next.
pub async fn answer_trust(
    state: &AppState,
    session: &Session,
    user: &User,
    trust_token: &str,
    answer: TrustAnswer<'_>,
    request_id: Option<&str>,
    client: &Client,
) -> AppResult<(Option<(Secret, store::devices::Device)>, super::Next)> {
    let mut client = client.clone();
    let (trusted, carried) = match answer {
        TrustAnswer::Yes { name } => {
            let (device_token, device, carried) = trust_device(state, &user.id, trust_token, name, &client).await?;
            client.device_token = Some(device_token.clone());
            (Some((device_token, device)), carried)
        }
        TrustAnswer::No => (None, decline_trust(state, &user.id, trust_token).await?),
    };
    let next = super::continue_request(state, session, user, request_id, &client, false, carried.as_ref()).await?;
    Ok((trusted, next))
}
