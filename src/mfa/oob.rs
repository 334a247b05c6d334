//! Codes sent out of band (SMS, email): six digits, stored as a salted hash, valid five minutes,
//! three tries, consumed once, bound to the destination and — at sign-in — to the MFA
//! transaction. Sending is limited before anything is sent (resend cooldown; hourly caps per
//! user, per destination, per client address, and for SMS in all; an allow-list of
//! countries), because every text message costs money and SMS pumping is the known attack.

use crate::audit::{self, Origin, event};
use crate::crypto;
use crate::delivery::{self, Channel, Content, Outgoing};
use crate::error::{AppError, AppResult};
use crate::mfa::policy::Factor;
use crate::state::AppState;
use crate::store::oob::{NewCode, Purpose};
use crate::store::{self, users::User};

/// Seconds a code stays valid.
pub const CODE_TTL_SECONDS: i64 = 300;
/// Wrong tries a code allows before it is dead.
pub const MAX_TRIES: i64 = 3;

/// The delivery channel of an out-of-band factor.
pub fn channel(kind: Factor) -> AppResult<Channel> {
    match kind {
        Factor::Sms => Ok(Channel::Sms),
        Factor::Email => Ok(Channel::Email),
        other => Err(AppError::BadRequest(format!("{} is not sent as a code", other.as_str()).into())),
    }
}

/// A destination for `kind` as typed by a person, normalised (E.164, a trimmed address) and
/// checked against what may be sent to; or a clear refusal.
pub fn destination(state: &AppState, kind: Factor, input: &str) -> AppResult<String> {
    match kind {
        Factor::Sms => {
            let number = delivery::normalise_phone(input).map_err(AppError::BadRequest)?;
            delivery::check_sms_country(&state.config.sms, &number).map_err(AppError::BadRequest)?;
            Ok(number)
        }
        Factor::Email => delivery::normalise_email(input).map_err(AppError::BadRequest),
        other => Err(AppError::BadRequest(format!("{} is not sent as a code", other.as_str()).into())),
    }
}

/// What the caller is told about a code that was sent.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Sent {
    /// The code's id; a set-up's factor will have it as its id.
    #[serde(skip)]
    pub id: String,
    /// The masked destination (`+1***5671`, `a***@example.com`).
    pub sent_to: String,
    pub expires_in: i64,
    /// Seconds before another code can be asked for.
    pub resend_after: i64,
}

/// Sends a new code for `purpose` to `destination` (already normalised), replacing the user's
/// earlier one of that kind and purpose. `binding` ties a sign-in code to its MFA transaction.
pub async fn send(
    state: &AppState,
    user: &User,
    kind: Factor,
    purpose: Purpose,
    destination: &str,
    binding: &str,
    origin: &Origin,
) -> AppResult<Sent> {
    let channel = channel(kind)?;
    if !state.delivery.is_available(channel) {
        return Err(AppError::BadRequest(
            format!("{} cannot be sent: no {channel} transport is configured", kind.label()).into(),
        ));
    }
    if kind == Factor::Sms {
        delivery::check_sms_country(&state.config.sms, destination).map_err(AppError::BadRequest)?;
    }
    let masked = match channel {
        Channel::Sms => delivery::mask_phone(destination),
        Channel::Email | Channel::Webhook => delivery::mask_email(destination),
    };
    if let Err(e) = reserve_send(state, user, kind, purpose, destination, origin).await {
        let detail = serde_json::json!({"kind": kind, "to": masked, "refused": e.public_message()}).to_string();
        audit::record(state, event::CODE_REFUSED, Some(&user.id), None, origin, Some(&detail)).await?;
        return Err(e);
    }
    let code = new_code();
    let id = uuid::Uuid::new_v4().simple().to_string();
    let now = state.now();
    let msg = delivery::prepare(
        state,
        Outgoing {
            channel,
            to: destination.to_owned(),
            user_id: Some(user.id.clone()),
            content: Content::Code {
                code: code.clone().into(),
                setup: purpose == Purpose::Enroll,
                minutes: CODE_TTL_SECONDS / 60,
            },
            ttl_seconds: Some(CODE_TTL_SECONDS),
        },
    )?;
    let row = NewCode {
        id: &id,
        user_id: &user.id,
        kind,
        purpose,
        destination,
        binding,
        code_hash: &code_hash(&id, &code),
        created_at: now,
        expires_at: now + CODE_TTL_SECONDS,
    };
    store::oob::put_code(&state.db, &row, &msg).await?;
    state.delivery.wake();
    let detail =
        serde_json::json!({"kind": kind, "purpose": purpose.as_str(), "to": masked, "message_id": msg.id}).to_string();
    audit::record(state, event::CODE_SENT, Some(&user.id), None, origin, Some(&detail)).await?;
    Ok(Sent {
        id,
        sent_to: masked,
        expires_in: CODE_TTL_SECONDS,
        resend_after: state.config.limits.code_resend_seconds,
    })
}

/// Checks `code` against the user's live code of `kind` and `purpose` bound to `binding`, one
/// try counted first. Returns the code's id and the destination it was sent to — the caller
/// uses the code up (`check_and_use`, or `store::oob::confirm` with the new factor); `None`
/// for a wrong, expired, used or exhausted code.
pub async fn check(
    state: &AppState,
    user_id: &str,
    kind: Factor,
    purpose: Purpose,
    binding: &str,
    code: &str,
) -> AppResult<Option<(String, String)>> {
    let now = state.now();
    let Some(t) = store::oob::take_try(&state.db, user_id, kind, purpose, binding, MAX_TRIES, now).await? else {
        return Ok(None);
    };
    let code: String = code.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let right = crypto::ct_eq(code_hash(&t.id, &code).as_bytes(), t.code_hash.as_bytes());
    if !right {
        return Ok(None);
    }
    Ok(Some((t.id, t.destination)))
}

/// `check` for a sign-in: the code must also be used up here (a set-up uses its code up
/// together with storing the factor, `store::oob::confirm`).
pub async fn check_and_use(
    state: &AppState,
    user_id: &str,
    kind: Factor,
    binding: &str,
    code: &str,
) -> AppResult<Option<String>> {
    match check(state, user_id, kind, Purpose::Login, binding, code).await? {
        Some((id, destination)) if store::oob::consume(&state.db, &id, state.now()).await? => Ok(Some(destination)),
        _ => Ok(None),
    }
}

/// Counts one send on every budget it is charged to, or refuses with 429 naming the limit.
async fn reserve_send(
    state: &AppState,
    user: &User,
    kind: Factor,
    purpose: Purpose,
    destination: &str,
    origin: &Origin,
) -> AppResult<()> {
    let l = &state.config.limits;
    let dest = crypto::token_hash(destination);
    let ip = super::limits::sender_key(origin);
    let mut budgets = vec![
        // The cooldown is per purpose: setting a number up and then signing in with it are
        // two conversations, each with its own resend pace.
        (
            format!("code:resend:{}:{}:{}", user.id, kind.as_str(), purpose.as_str()),
            l.code_resend_seconds,
            1,
            "limit-code-resend",
        ),
        (format!("code:user:{}", user.id), 3600, l.codes_per_user_per_hour, "limit-code-account"),
        (format!("code:to:{dest}"), 3600, l.codes_per_destination_per_hour, "limit-code-destination"),
        (format!("code:ip:{ip}"), 3600, l.codes_per_ip_per_hour, "limit-code-client"),
    ];
    // The global caps: every text message costs money; every email spends the relay's reputation.
    match kind {
        Factor::Sms => budgets.push(("code:sms:all".into(), 3600, l.sms_per_hour, "limit-sms-all")),
        _ => budgets.push(("code:email:all".into(), 3600, l.code_emails_per_hour, "limit-code-emails-all")),
    }
    let caps: Vec<super::limits::Cap> = budgets
        .into_iter()
        .map(|(key, window, max, message)| super::limits::Cap { key, window, max, message })
        .collect();
    super::limits::spend(state, &caps).await
}

/// Six uniformly random digits.
fn new_code() -> String {
    loop {
        let n = u32::from_le_bytes(crypto::random_bytes::<4>());
        // Rejection sampling: the top values would make low codes slightly likelier.
        if n < u32::MAX - u32::MAX % 1_000_000 {
            return format!("{:06}", n % 1_000_000);
        }
    }
}

/// The stored form of a code: salted with its row's id, so equal codes never hash alike.
fn code_hash(id: &str, code: &str) -> String {
    crypto::token_hash(&format!("{id}.{code}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn codes_are_six_digits_and_vary() {
        let codes: std::collections::HashSet<String> = (0..200).map(|_| super::new_code()).collect();
        assert!(codes.iter().all(|c| c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit())));
        assert!(codes.len() > 190);
    }
}
