//! The audit log (who did what, from where, to which app). Events are written in the same
//! request that acts, and a failed write fails the request: an action that cannot be audited
//! does not happen.

use std::net::{IpAddr, Ipv6Addr};

use crate::error::AppResult;
use crate::state::AppState;
use crate::store;

/// Event names, as stored and filtered on.
pub mod event {
    pub const LOGIN_SUCCESS: &str = "login.success";
    pub const LOGIN_FAILURE: &str = "login.failure";
    pub const LOCKOUT: &str = "login.lockout";
    pub const MFA_CHALLENGE: &str = "mfa.challenge";
    pub const MFA_PASSED: &str = "mfa.passed";
    pub const MFA_FAILED: &str = "mfa.failed";
    pub const MFA_ENROLLMENT_POSTPONED: &str = "mfa.enrollment_postponed";
    pub const MFA_DENIED: &str = "mfa.denied";
    pub const FACTOR_ENROLLED: &str = "mfa.factor_enrolled";
    pub const FACTOR_REMOVED: &str = "mfa.factor_removed";
    pub const BACKUP_CODES_GENERATED: &str = "mfa.backup_codes_generated";
    pub const BACKUP_CODE_USED: &str = "mfa.backup_code_used";
    pub const DEVICE_TRUSTED: &str = "device.trusted";
    pub const DEVICE_REVOKED: &str = "device.revoked";
    /// A security event ended sessions, grants or device trusts (`admin::security`).
    pub const SECURITY_EVENT: &str = "security.event";
    pub const SETTINGS_CHANGED: &str = "settings.changed";
    pub const APP_CREATED: &str = "app.created";
    pub const APP_REMOVED: &str = "app.removed";
    pub const APP_UPDATED: &str = "app.updated";
    pub const APP_SECRET_ROTATED: &str = "app.secret_rotated";
    pub const USER_CREATED: &str = "user.created";
    /// An administrator issued an invitation link (the account has no password yet).
    pub const USER_INVITED: &str = "user.invited";
    /// The invited user chose their password.
    pub const INVITATION_ACCEPTED: &str = "user.invitation_accepted";
    pub const USER_PASSWORD_SET: &str = "user.password_set";
    pub const USER_DISABLED: &str = "user.disabled";
    pub const USER_ENABLED: &str = "user.enabled";
    /// An administrator ended a user's sessions (one, or all).
    pub const USER_SESSIONS_ENDED: &str = "user.sessions_ended";
    /// An administrator lifted a lockout after failed attempts.
    pub const USER_UNLOCKED: &str = "user.unlocked";
    pub const GROUP_MEMBER_ADDED: &str = "group.member_added";
    pub const GROUP_MEMBER_REMOVED: &str = "group.member_removed";
    pub const PLUGIN_FAILED: &str = "plugin.failed";
    pub const PLUGIN_UPLOADED: &str = "plugin.uploaded";
    pub const PLUGIN_ASSIGNED: &str = "plugin.assigned";
    pub const PLUGIN_UNASSIGNED: &str = "plugin.unassigned";
    pub const PLUGIN_DELETED: &str = "plugin.deleted";
    /// The user chose the factor the MFA page offers first.
    pub const PRIMARY_FACTOR_SET: &str = "mfa.primary_factor_set";
    /// A one-time code was sent by SMS or email (to a masked destination).
    pub const CODE_SENT: &str = "mfa.code_sent";
    /// A code was not sent: a cooldown, a cap or the country allow-list refused it.
    pub const CODE_REFUSED: &str = "mfa.code_refused";
    /// An administrator queued a test message on a channel.
    pub const DELIVERY_TEST: &str = "delivery.test_requested";
    /// A message was given up (refused for good, or not delivered before it expired).
    pub const DELIVERY_FAILED: &str = "delivery.failed";
    /// A recovery link was sent (asked for by email) or issued by an administrator.
    pub const RECOVERY_REQUESTED: &str = "mfa.recovery_requested";
    /// A recovery link was opened: a recovery session began (it can only enrol).
    pub const RECOVERY_STARTED: &str = "mfa.recovery_started";
    /// A recovery session ended with a new factor proved (the security event follows).
    pub const RECOVERY_USED: &str = "mfa.recovery_used";
    /// An administrator removed one factor of a user.
    pub const FACTOR_REMOVED_BY_ADMIN: &str = "mfa.factor_removed_by_admin";
    /// A password-reset link was sent.
    pub const PASSWORD_RESET_REQUESTED: &str = "password.reset_requested";
    /// A password was set through a reset link.
    pub const PASSWORD_RESET: &str = "password.reset";
    /// The user changed their password (current password and a fresh second factor).
    pub const PASSWORD_CHANGED: &str = "password.changed";
    /// A configuration document applied (`portcullis config apply`, `serve --apply`).
    pub const CONFIG_APPLIED: &str = "config.applied";
}

/// Where a request came from, for the log and for rate limits.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub ip: Option<String>,
}

impl Origin {
    /// An action taken with the `portcullis` command on the server's host.
    pub fn cli() -> Origin {
        Origin { ip: Some("cli".into()) }
    }

    /// What per-address limits count this request under: its address's block
    /// (`address_block`, an IPv6 one written with its prefix length), or the origin as
    /// recorded where it is no address. None when the address is unknown.
    pub fn limit_key(&self) -> Option<String> {
        self.ip.as_deref().map(block_key)
    }
}

/// An address as the block it belongs to (`address_block`), written with its prefix length if
/// it is an IPv6 one; anything that is no address stays as it is.
pub fn block_key(ip: &str) -> String {
    match ip.parse::<IpAddr>().map(address_block) {
        Ok(IpAddr::V6(net)) => format!("{net}/64"),
        Ok(v4) => v4.to_string(),
        Err(_) => ip.to_owned(),
    }
}

/// The addresses one client is taken to hold, which per-address limits and turns count as
/// one: an IPv4 address, or the /64 of an IPv6 address. A /64 is what a subscriber or a
/// server is given, and every address in it is theirs to send from: counted apart, one host
/// would have 2^64 budgets. An IPv4-mapped IPv6 address is its IPv4 address.
pub fn address_block(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX))),
        v4 => v4,
    }
}

pub async fn record(
    state: &AppState,
    event: &str,
    user_id: Option<&str>,
    app_id: Option<&str>,
    origin: &Origin,
    detail: Option<&str>,
) -> AppResult<()> {
    Record::new(event, user_id, app_id, origin, detail).write(state).await
}

/// One audit record, for a store function that writes it in the same transaction as the
/// action it records (`row`); `log` traces it once written.
pub struct Record<'a> {
    event: &'a str,
    user_id: Option<&'a str>,
    actor_id: Option<&'a str>,
    app_id: Option<&'a str>,
    origin: &'a Origin,
    detail: Option<&'a str>,
}

impl<'a> Record<'a> {
    pub fn new(
        event: &'a str,
        user_id: Option<&'a str>,
        app_id: Option<&'a str>,
        origin: &'a Origin,
        detail: Option<&'a str>,
    ) -> Record<'a> {
        Record { event, user_id, actor_id: None, app_id, origin, detail }
    }

    /// The administrator who acted on the user's behalf (see `admin::Admin`).
    pub fn by(mut self, actor_id: Option<&'a str>) -> Record<'a> {
        self.actor_id = actor_id;
        self
    }

    /// Writes the record on its own (not in the transaction of the action).
    pub async fn write(&self, state: &AppState) -> AppResult<()> {
        self.log();
        store::audit::record(&state.db, &self.row(), state.now()).await?;
        self.announce(state).await;
        Ok(())
    }

    /// After the record is stored (on its own or in the action's transaction): the user's
    /// security alert and the webhook subscribers' events, whichever door the action came
    /// through. Best effort: neither can undo what was recorded.
    pub async fn announce(&self, state: &AppState) {
        state.metrics.event(self.event, self.detail);
        crate::delivery::alerts::after_event(state, self.event, self.user_id, self.origin, self.detail);
        crate::delivery::webhooks::dispatch(state, self.event, self.user_id, self.app_id, self.origin, self.detail)
            .await;
    }

    pub fn row(&self) -> store::audit::Event<'a> {
        store::audit::Event {
            event: self.event,
            user_id: self.user_id,
            actor_id: self.actor_id,
            app_id: self.app_id,
            ip: self.origin.ip.as_deref(),
            detail: self.detail,
        }
    }

    pub fn log(&self) {
        let (event, user_id, actor_id, app_id, detail) =
            (self.event, self.user_id, self.actor_id, self.app_id, self.detail);
        tracing::info!(event, user_id, actor_id, app_id, ip = self.origin.ip.as_deref(), detail, "audit");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_count_an_ipv6_address_by_its_64() {
        let key = |ip: &str| Origin { ip: Some(ip.into()) }.limit_key().unwrap();
        assert_eq!(key("2001:db8:1:2::1"), "2001:db8:1:2::/64");
        assert_eq!(key("2001:DB8:0001:0002:ffff:eeee:dddd:cccc"), "2001:db8:1:2::/64");
        assert_ne!(key("2001:db8:1:3::1"), key("2001:db8:1:2::1"));
        assert_eq!(key("::ffff:192.0.2.7"), "192.0.2.7", "an IPv4-mapped address is its IPv4 address");
        assert_eq!(key("192.0.2.7"), "192.0.2.7");
        assert_eq!(key("cli"), "cli");
        assert_eq!(Origin::default().limit_key(), None);
    }
}
