//! Security events and what each one ends (DESIGN §5). This is the one place that says it:
//! the CLI, the JSON API and the pages all report the event here, so what gets revoked never
//! depends on which door was used.

use crate::audit::{self, Origin, event};
use crate::error::AppResult;
use crate::state::AppState;
use crate::store;

/// Something that changes how far a user's existing sign-ins may be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecurityEvent<'a> {
    /// A new password was set (by the user, an admin or the CLI).
    PasswordChanged,
    /// The account was disabled.
    UserDisabled,
    /// An administrator removed every second factor (lost device).
    MfaResetByAdmin,
    /// An administrator removed one of the user's factors.
    FactorRemovedByAdmin,
    /// The user removed their last factor, from the session `current`.
    LastFactorRemoved { current: &'a str },
    /// A recovery session proved a new factor (the old ones may be in someone else's hands).
    RecoveryUsed,
    /// A password was set through a reset link sent by email.
    PasswordReset,
    /// The user changed their password from the session `current` (with the current password
    /// and a fresh second factor).
    PasswordChangedByUser { current: &'a str },
}

/// What an event ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ends<'a> {
    /// Every SSO session, or every one but the session the user acted from.
    pub sessions: Sessions<'a>,
    /// Every grant: refresh-token families and the access tokens issued from them.
    pub grants: bool,
    /// Every trusted device.
    pub devices: bool,
    /// Every MFA step still in progress.
    pub mfa_transactions: bool,
    /// Every unused recovery or password-reset link.
    pub links: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sessions<'a> {
    All,
    AllBut(&'a str),
}

impl<'a> SecurityEvent<'a> {
    pub fn ends(self) -> Ends<'a> {
        use SecurityEvent::*;
        let everything =
            Ends { sessions: Sessions::All, grants: true, devices: true, mfa_transactions: true, links: true };
        match self {
            // A password that may be known to someone else: nothing signed in with it stands,
            // and no link sent before it opens anything.
            PasswordChanged | UserDisabled | PasswordReset => everything,
            // The user proved the password and a fresh second factor: only this session stands.
            PasswordChangedByUser { current } => Ends { sessions: Sessions::AllBut(current), ..everything },
            // A factor that may be in someone else's hands: every sign-in that passed it, and
            // every device trusted after it, is suspect.
            MfaResetByAdmin | FactorRemovedByAdmin => Ends { links: false, ..everything },
            // The way back in was used: the old factors may be lost or stolen. The recovery's
            // own session is created after this.
            RecoveryUsed => everything,
            // The user acted from a fresh session; the rest earned their MFA with a factor
            // that no longer exists, and device trust needs a factor to mean anything.
            LastFactorRemoved { current } => Ends {
                sessions: Sessions::AllBut(current),
                grants: false,
                devices: true,
                mfa_transactions: true,
                links: false,
            },
        }
    }

    fn name(self) -> &'static str {
        use SecurityEvent::*;
        match self {
            PasswordChanged => "password_changed",
            UserDisabled => "user_disabled",
            MfaResetByAdmin => "mfa_reset_by_admin",
            FactorRemovedByAdmin => "factor_removed_by_admin",
            LastFactorRemoved { .. } => "last_factor_removed",
            RecoveryUsed => "recovery_used",
            PasswordReset => "password_reset",
            PasswordChangedByUser { .. } => "password_changed_by_user",
        }
    }
}

/// Ends what `event` says for `user_id`, and audits what was ended; `actor_id` is the
/// administrator who set it off, if it was not the user.
pub async fn apply(
    state: &AppState,
    user_id: &str,
    e: SecurityEvent<'_>,
    actor_id: Option<&str>,
    origin: &Origin,
) -> AppResult<()> {
    let ends = e.ends();
    let now = state.now();
    let sessions = match ends.sessions {
        Sessions::All => store::sessions::delete_for_user(&state.db, user_id).await?,
        Sessions::AllBut(keep) => store::sessions::delete_for_user_except(&state.db, user_id, keep).await?,
    };
    if ends.mfa_transactions {
        store::mfa_transactions::delete_for_user(&state.db, user_id).await?;
    }
    if ends.grants {
        store::grants::revoke_for_user(&state.db, user_id, now).await?;
    }
    let devices = if ends.devices { store::devices::delete_all(&state.db, user_id).await? } else { 0 };
    let links = if ends.links { store::links::revoke_for_user(&state.db, user_id, now).await? } else { 0 };
    let detail = serde_json::json!({
        "event": e.name(),
        "sessions_ended": sessions,
        "grants_revoked": ends.grants,
        "devices_revoked": devices,
        "links_revoked": links,
    })
    .to_string();
    audit::Record::new(event::SECURITY_EVENT, Some(user_id), None, origin, Some(&detail))
        .by(actor_id)
        .write(state)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_admin_or_password_event_ends_everything() {
        for e in [
            SecurityEvent::PasswordChanged,
            SecurityEvent::UserDisabled,
            SecurityEvent::MfaResetByAdmin,
            SecurityEvent::FactorRemovedByAdmin,
            SecurityEvent::RecoveryUsed,
            SecurityEvent::PasswordReset,
        ] {
            let ends = e.ends();
            assert_eq!(ends.sessions, Sessions::All, "{e:?}");
            assert!(ends.grants && ends.devices && ends.mfa_transactions, "{e:?}");
        }
    }

    #[test]
    fn last_factor_removed_keeps_only_the_acting_session() {
        let ends = SecurityEvent::LastFactorRemoved { current: "s1" }.ends();
        assert_eq!(ends.sessions, Sessions::AllBut("s1"));
        assert!(ends.devices);
    }

    #[test]
    fn a_password_change_by_the_user_keeps_only_their_session() {
        let ends = SecurityEvent::PasswordChangedByUser { current: "s1" }.ends();
        assert_eq!(ends.sessions, Sessions::AllBut("s1"));
        assert!(ends.grants && ends.devices && ends.mfa_transactions && ends.links);
    }
}
