//! Security alerts (the SDK document's best practice): the user is emailed when a sign-in
//! method is added or removed, a device is trusted, their account is recovered, their password
//! changes, or they are locked out after failed attempts. The audit log sees every event
//! whichever door it came through, so the alert is queued from there (`audit::Record::write`);
//! each kind can be turned off in the settings. An alert is best effort: one that cannot be
//! queued is logged, and the action it reports still stands.

use crate::audit::{Origin, event};
use crate::delivery::{Channel, Content, Outgoing};
use crate::mfa::policy::Settings;
use crate::state::AppState;
use crate::store;
use crate::web::i18n;

/// What an alert reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Alert {
    FactorAdded,
    FactorRemoved,
    DeviceTrusted,
    RecoveryUsed,
    PasswordChanged,
    LockedOut,
}

impl Alert {
    /// The alert an audit event raises, if any.
    pub fn of_event(e: &str) -> Option<Alert> {
        Some(match e {
            event::FACTOR_ENROLLED => Alert::FactorAdded,
            event::FACTOR_REMOVED | event::FACTOR_REMOVED_BY_ADMIN => Alert::FactorRemoved,
            event::DEVICE_TRUSTED => Alert::DeviceTrusted,
            event::RECOVERY_USED => Alert::RecoveryUsed,
            event::PASSWORD_CHANGED | event::PASSWORD_RESET | event::USER_PASSWORD_SET => Alert::PasswordChanged,
            event::LOCKOUT => Alert::LockedOut,
            _ => return None,
        })
    }

    fn enabled(self, s: &Settings) -> bool {
        match self {
            Alert::FactorAdded | Alert::FactorRemoved => s.alert_factor_changes,
            Alert::DeviceTrusted => s.alert_new_trusted_device,
            Alert::RecoveryUsed => s.alert_recovery_used,
            Alert::PasswordChanged => s.alert_password_changes,
            Alert::LockedOut => s.alert_lockout,
        }
    }

    /// The mail's subject line and its first sentence.
    /// Its subject and headline in the language being rendered (catalogue keys
    /// `alert-KIND-subject`, `alert-KIND-headline`).
    pub fn headline(self) -> (String, String) {
        let kind = match self {
            Alert::FactorAdded => "factor-added",
            Alert::FactorRemoved => "factor-removed",
            Alert::DeviceTrusted => "device-trusted",
            Alert::RecoveryUsed => "recovery-used",
            Alert::PasswordChanged => "password-changed",
            Alert::LockedOut => "locked-out",
        };
        (i18n::t(&format!("alert-{kind}-subject")), i18n::t(&format!("alert-{kind}-headline")))
    }
}

/// Queues the alert `event` raises for `user_id`, if it raises one, the settings want it and
/// the user has a verified address. Never fails: a problem is logged. The work runs after the
/// answer, so that no response takes longer because its account exists (a lockout of a known
/// account would otherwise answer slower than one of an unknown name).
pub fn after_event(state: &AppState, e: &str, user_id: Option<&str>, origin: &Origin, detail: Option<&str>) {
    let (Some(alert), Some(user_id)) = (Alert::of_event(e), user_id) else { return };
    let (state, user_id, origin) = (state.clone(), user_id.to_owned(), origin.clone());
    let detail = detail.map(str::to_owned);
    // The mail is in the language of the request that set it off.
    tokio::spawn(i18n::scope(i18n::current(), async move {
        if let Err(err) = queue(&state, alert, &user_id, &origin, detail.as_deref()).await {
            tracing::warn!(error = %err, alert = ?alert, "a security alert could not be queued");
        }
    }));
}

async fn queue(
    state: &AppState,
    alert: Alert,
    user_id: &str,
    origin: &Origin,
    detail: Option<&str>,
) -> crate::error::AppResult<()> {
    if !state.delivery.is_available(Channel::Email) || !alert.enabled(&store::settings::load(&state.db).await?) {
        return Ok(());
    }
    let Some(user) = store::users::find_by_id(&state.db, user_id).await? else { return Ok(()) };
    let Some(to) = user.email.clone().filter(|e| user.email_verified && !e.is_empty()) else { return Ok(()) };
    // A factor's kind is the detail's one word (`totp`); other details are not for the user.
    let what = detail.filter(|d| d.len() <= 32 && d.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
    let what =
        what.and_then(crate::mfa::policy::Factor::parse).map(|f| crate::web::i18n::t1("factor-name", "f", f.as_str()));
    crate::delivery::enqueue(
        state,
        Outgoing {
            channel: Channel::Email,
            to,
            user_id: Some(user.id.clone()),
            content: Content::Alert { alert, what, at: state.now(), ip: origin.ip.clone() },
            ttl_seconds: None,
        },
    )
    .await
    .map(|_| ())
}
