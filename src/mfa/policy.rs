//! Policy resolution (DESIGN §2), free of I/O so the whole matrix is a table test.

use serde::{Deserialize, Serialize};

use super::assurance::Assurance;

/// MFA policy values, weakest first; `Ord` follows strength, so "the stronger of two" is `max`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// No challenge.
    Disabled,
    /// Challenge only users who have a factor enrolled.
    Optional,
    /// Every user passes a second factor; one without is sent to enrolment.
    Any,
    /// A one-time code (TOTP) or something stronger (a passkey).
    Otp,
    /// A WebAuthn credential: phishing-resistant.
    Passkey,
}

impl Policy {
    pub const ALL: [Policy; 5] = [Policy::Disabled, Policy::Optional, Policy::Any, Policy::Otp, Policy::Passkey];

    pub fn as_str(self) -> &'static str {
        match self {
            Policy::Disabled => "disabled",
            Policy::Optional => "optional",
            Policy::Any => "any",
            Policy::Otp => "otp",
            Policy::Passkey => "passkey",
        }
    }

    pub fn parse(s: &str) -> Option<Policy> {
        Policy::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// Second factors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Factor {
    Totp,
    Passkey,
    BackupCode,
    /// A code texted to a verified phone number: out of band and interceptable (SIM swap), so
    /// it satisfies `optional` and `any` only.
    Sms,
    /// A code mailed to the account's verified address: as weak as SMS.
    Email,
}

impl Factor {
    pub const ALL: [Factor; 5] = [Factor::Totp, Factor::Passkey, Factor::BackupCode, Factor::Sms, Factor::Email];

    pub fn as_str(self) -> &'static str {
        match self {
            Factor::Totp => "totp",
            Factor::Passkey => "passkey",
            Factor::BackupCode => "backup_code",
            Factor::Sms => "sms",
            Factor::Email => "email",
        }
    }

    pub fn parse(s: &str) -> Option<Factor> {
        Factor::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// How people call the factor.
    pub fn label(self) -> &'static str {
        match self {
            Factor::Totp => "an authenticator app",
            Factor::Passkey => "a passkey",
            Factor::BackupCode => "backup codes",
            Factor::Sms => "text message codes",
            Factor::Email => "email codes",
        }
    }

    /// A code sent through the delivery outbox (SMS, email).
    pub fn is_out_of_band(self) -> bool {
        matches!(self, Factor::Sms | Factor::Email)
    }
}

/// Space-separated factor lists, as stored.
pub fn join_factors(fs: &[Factor]) -> String {
    fs.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(" ")
}

pub fn parse_factors(s: &str) -> Vec<Factor> {
    s.split_whitespace().filter_map(Factor::parse).collect()
}

/// Global settings (DESIGN §2), stored in the database and read at every login.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub mfa_policy: Policy,
    /// Factors users may enrol (backup codes are governed by `backup_codes_count`).
    pub mfa_allowed_factors: Vec<Factor>,
    /// Every user must enrol a factor, whatever the policy.
    pub mfa_enforce_enrollment: bool,
    /// Days a user may postpone a required enrolment, counted from the first time it was asked.
    pub mfa_enrollment_grace_period: i64,
    /// 0 = one MFA per SSO session; N = ask again when the last MFA is older than N minutes.
    pub mfa_reauth_interval_minutes: i64,
    /// 0 turns trusted devices off.
    pub trusted_device_duration_days: i64,
    /// Backup codes per generated set; 0 turns backup codes off.
    pub backup_codes_count: i64,
    /// Users may ask for an MFA recovery link by email ("Lost access to your second step?").
    /// Off: the page tells them to contact an administrator.
    pub self_service_recovery: bool,
    /// Users may ask for a password-reset link by email ("Forgot password?").
    pub self_service_password_reset: bool,
    /// Email the user when a sign-in method is added or removed.
    pub alert_factor_changes: bool,
    /// Email the user when a device is trusted.
    pub alert_new_trusted_device: bool,
    /// Email the user when their account is recovered.
    pub alert_recovery_used: bool,
    /// Email the user when their password changes.
    pub alert_password_changes: bool,
    /// Email the user when sign-in is locked after failed attempts.
    pub alert_lockout: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            mfa_policy: Policy::Optional,
            mfa_allowed_factors: vec![Factor::Totp, Factor::Passkey],
            mfa_enforce_enrollment: false,
            mfa_enrollment_grace_period: 0,
            mfa_reauth_interval_minutes: 0,
            trusted_device_duration_days: 30,
            backup_codes_count: 10,
            self_service_recovery: true,
            self_service_password_reset: true,
            alert_factor_changes: true,
            alert_new_trusted_device: true,
            alert_recovery_used: true,
            alert_password_changes: true,
            alert_lockout: true,
        }
    }
}

impl Settings {
    /// Refuses values that make no sense, naming the key.
    pub fn validate(&self) -> Result<(), String> {
        let ranges = [
            ("mfa_enrollment_grace_period", self.mfa_enrollment_grace_period, 0, 365),
            ("mfa_reauth_interval_minutes", self.mfa_reauth_interval_minutes, 0, 60 * 24 * 365),
            ("trusted_device_duration_days", self.trusted_device_duration_days, 0, 365),
            ("backup_codes_count", self.backup_codes_count, 0, 50),
        ];
        for (key, v, lo, hi) in ranges {
            if !(lo..=hi).contains(&v) {
                return Err(format!("{key} must be between {lo} and {hi}"));
            }
        }
        if self.mfa_allowed_factors.contains(&Factor::BackupCode) {
            return Err("mfa_allowed_factors lists enrollable factors (totp, passkey, sms, email); backup codes are set by backup_codes_count".into());
        }
        if self.mfa_allowed_factors.is_empty() && (self.mfa_policy >= Policy::Any || self.mfa_enforce_enrollment) {
            return Err(
                "mfa_allowed_factors must not be empty while mfa_policy or mfa_enforce_enrollment requires a factor"
                    .into(),
            );
        }
        Ok(())
    }
}

/// Whether a user could ever meet `policy` when only `allowed` factors may be set up: a
/// policy nothing allowed can satisfy turns every login it governs into `access_denied`.
/// Backup codes do not count here: they are the way back in, not a factor of their own.
pub fn satisfiable(policy: Policy, allowed: &[Factor]) -> bool {
    policy <= Policy::Optional
        || allowed.iter().any(|f| *f != Factor::BackupCode && qualifies(*f, policy, Assurance::Password))
}

/// The first factor that would meet `policy` (for messages): a passkey meets everything.
pub fn weakest_factor_for(policy: Policy) -> Factor {
    if policy == Policy::Passkey { Factor::Passkey } else { Factor::Totp }
}

/// An app's own settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AppPolicy {
    /// `None`: inherit the global policy.
    pub mfa_policy: Option<Policy>,
    /// 0: the global interval.
    pub reauth_interval_minutes: i64,
    pub allow_trusted_devices: bool,
    /// The factors this app accepts, within `mfa_allowed_factors` (`None`: all of those). It
    /// can only narrow them, e.g. keep codes sent by SMS out of one app.
    #[serde(default)]
    pub allowed_factors: Option<Vec<Factor>>,
}

impl Default for AppPolicy {
    fn default() -> Self {
        AppPolicy { mfa_policy: None, reauth_interval_minutes: 0, allow_trusted_devices: true, allowed_factors: None }
    }
}

impl AppPolicy {
    /// Whether the app accepts `f`. Backup codes stay the way back in wherever the app
    /// accepts any factor of its own.
    pub fn allows(&self, f: Factor) -> bool {
        f == Factor::BackupCode || self.allowed_factors.as_ref().is_none_or(|a| a.contains(&f))
    }
}

/// The user's enrolled factors.
#[derive(Clone, Copy, Debug, Default)]
pub struct Enrolled {
    pub totp: bool,
    pub passkeys: usize,
    pub backup_codes: usize,
    pub sms: bool,
    pub email: bool,
}

impl Enrolled {
    fn has(&self, f: Factor) -> bool {
        match f {
            Factor::Totp => self.totp,
            Factor::Passkey => self.passkeys > 0,
            Factor::BackupCode => self.backup_codes > 0,
            Factor::Sms => self.sms,
            Factor::Email => self.email,
        }
    }

    /// Strongest first, as a challenge offers them.
    pub fn list(&self) -> Vec<Factor> {
        [Factor::Passkey, Factor::Totp, Factor::Sms, Factor::Email, Factor::BackupCode]
            .into_iter()
            .filter(|f| self.has(*f))
            .collect()
    }

    /// Has a factor of their own (backup codes alone do not count: they are for recovery).
    pub fn any(&self) -> bool {
        self.totp || self.passkeys > 0 || self.sms || self.email
    }
}

/// What a selector plugin asked for, as the MFA step applies it (DESIGN §2 step 3): the
/// stronger policy wins, the interval is the smallest non-zero, factors are only narrowed,
/// the trusted-device skip can only be vetoed. The failure handling (`fail_secure`) is also
/// expressed as a verdict, so that it goes through the same rule.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Verdict {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<Policy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_factors: Option<Vec<Factor>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reauth_interval_minutes: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_trusted_device: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deny: Option<String>,
}

impl Verdict {
    fn allows(&self, f: Factor) -> bool {
        self.allowed_factors.as_ref().is_none_or(|a| a.contains(&f))
    }
}

/// Everything one login's decision depends on.
#[derive(Clone, Debug)]
pub struct Inputs<'a> {
    pub settings: &'a Settings,
    pub app: &'a AppPolicy,
    /// The strongest minimum among the user's groups.
    pub group_minimum: Option<Policy>,
    pub step_up: Assurance,
    /// `max_age`, `prompt=login` or `ForceAuthn` asked for a fresh sign-in.
    pub freshness_demanded: bool,
    pub enrolled: Enrolled,
    /// The session's last second factor and when it was verified.
    pub session_mfa: Option<(Factor, i64)>,
    /// A valid trusted-device token of this user came with the request.
    pub device_trusted: bool,
    /// When the user's enrolment grace period ends (`None`: never asked yet).
    pub enroll_deadline: Option<i64>,
    pub now: i64,
    /// The selector plugin's verdict, if a plugin ran for this login.
    pub plugin: Option<&'a Verdict>,
}

/// What the MFA step requires before the login may finish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requirement {
    /// Enrolled factors that may be used now. When `enroll` is not empty these only prove
    /// the user before a new factor is added (DESIGN §5: adding a factor needs a fresh MFA).
    pub challenge: Vec<Factor>,
    /// Factors to enrol; empty when a challenge suffices.
    pub enroll: Vec<Factor>,
    /// The user may postpone enrolment ("set up later") inside the grace period.
    pub can_postpone: bool,
    /// Offer "trust this device" after a successful second factor.
    pub allow_trust: bool,
    /// The session's second factor that still counts (fresh), though it does not qualify.
    pub counted: Option<Factor>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The login may finish. `factor` is the session's second factor when it still counts
    /// (fresh and within the interval) and so counts in the login's `Assurance`.
    Satisfied {
        factor: Option<Factor>,
        by_device: bool,
    },
    Required(Requirement),
    /// Nothing the user could do satisfies the policy (e.g. a passkey is required but
    /// passkeys may not be enrolled).
    Denied {
        reason: String,
    },
}

/// The policy in force, before the user's state is looked at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Effective {
    pub policy: Policy,
    /// Explicit step-up from the request.
    pub step_up: Assurance,
    /// Seconds a verification stays good; 0 = the whole SSO session.
    pub interval_seconds: i64,
}

/// The static policy (DESIGN §2 step 1): the app's or the global one, raised to the
/// strongest group minimum.
pub fn static_policy(i: &Inputs<'_>) -> Policy {
    i.app.mfa_policy.unwrap_or(i.settings.mfa_policy).max(i.group_minimum.unwrap_or(Policy::Disabled))
}

pub fn effective(i: &Inputs<'_>) -> Effective {
    // Floor rule: a plugin can only make the policy stronger.
    let static_policy = static_policy(i).max(i.plugin.and_then(|v| v.policy).unwrap_or(Policy::Disabled));
    let policy = match i.step_up {
        Assurance::Password => static_policy,
        Assurance::SecondFactor => static_policy.max(Policy::Any),
        Assurance::PhishingResistant => static_policy.max(Policy::Passkey),
    };
    let plugin_interval = i.plugin.and_then(|v| v.reauth_interval_minutes).map_or(0, i64::from);
    let interval_minutes = [i.settings.mfa_reauth_interval_minutes, i.app.reauth_interval_minutes, plugin_interval]
        .into_iter()
        .filter(|m| *m > 0)
        .min()
        .unwrap_or(0);
    Effective { policy, step_up: i.step_up, interval_seconds: interval_minutes * 60 }
}

/// Whether `factor` satisfies `policy`. A stronger factor satisfies a weaker policy; backup
/// codes satisfy every policy (they are the way back in), except an explicit request for
/// phishing-resistant authentication. Codes sent by SMS or email satisfy `optional` and `any`
/// only: they travel over channels others can intercept (SIM swap, a mailbox).
pub fn qualifies(factor: Factor, policy: Policy, step_up: Assurance) -> bool {
    match policy {
        Policy::Disabled | Policy::Optional | Policy::Any => true,
        Policy::Otp => !factor.is_out_of_band(),
        Policy::Passkey => {
            factor == Factor::Passkey || (factor == Factor::BackupCode && step_up != Assurance::PhishingResistant)
        }
    }
}

/// The decision for one login (DESIGN §2, steps 1, 2 and 4; the plugin's step 3 tightens
/// `Inputs` before this runs).
pub fn decide(i: &Inputs<'_>) -> Decision {
    let no_plugin = Verdict::default();
    let plugin = i.plugin.unwrap_or(&no_plugin);
    if let Some(reason) = &plugin.deny {
        return Decision::Denied { reason: reason.clone() };
    }
    let eff = effective(i);
    let fresh = |at: i64| eff.interval_seconds == 0 || i.now - at < eff.interval_seconds;
    // A factor counts only where the plugin and the app both accept it.
    let accepts = |f: Factor| plugin.allows(f) && i.app.allows(f);
    let counted = i.session_mfa.filter(|(f, at)| fresh(*at) && accepts(*f)).map(|(f, _)| f);
    let needs_mfa = match eff.policy {
        Policy::Disabled => false,
        Policy::Optional => i.enrolled.any(),
        Policy::Any | Policy::Otp | Policy::Passkey => true,
    };
    let allow_trust = i.settings.trusted_device_duration_days > 0
        && i.app.allow_trusted_devices
        && plugin.allow_trusted_device != Some(false);
    let grace_open = |explicit: bool| {
        !explicit
            && i.settings.mfa_enrollment_grace_period > 0
            && i.enroll_deadline.is_none_or(|deadline| i.now < deadline)
    };
    let enrollable = |policy: Policy| -> Vec<Factor> {
        [Factor::Passkey, Factor::Totp, Factor::Sms, Factor::Email]
            .into_iter()
            .filter(|f| i.settings.mfa_allowed_factors.contains(f) && qualifies(*f, policy, eff.step_up) && accepts(*f))
            .collect()
    };

    if !needs_mfa {
        if i.settings.mfa_enforce_enrollment && !i.enrolled.any() {
            return Decision::Required(Requirement {
                challenge: vec![],
                enroll: enrollable(Policy::Any),
                can_postpone: grace_open(false),
                allow_trust,
                counted,
            });
        }
        return Decision::Satisfied { factor: counted, by_device: false };
    }
    if let Some(f) = counted
        && qualifies(f, eff.policy, eff.step_up)
    {
        return Decision::Satisfied { factor: Some(f), by_device: false };
    }
    // Device trust skips the challenge for the static policy only (DESIGN §2 step 4).
    if i.device_trusted && allow_trust && eff.step_up == Assurance::Password && !i.freshness_demanded {
        return Decision::Satisfied { factor: None, by_device: true };
    }
    // Backup codes are offered beside a qualifying factor, not instead of one: a user with
    // none is led to enrol one (recovery never replaces enrolment, DESIGN §5).
    let usable: Vec<Factor> =
        i.enrolled.list().into_iter().filter(|f| qualifies(*f, eff.policy, eff.step_up) && accepts(*f)).collect();
    if usable.iter().any(|f| *f != Factor::BackupCode) {
        return Decision::Required(Requirement {
            challenge: usable,
            enroll: vec![],
            can_postpone: false,
            allow_trust,
            counted,
        });
    }
    let enroll = enrollable(eff.policy);
    if enroll.is_empty() {
        return Decision::Denied {
            reason: format!("the {} policy needs a factor that users may not enrol", eff.policy.as_str()),
        };
    }
    Decision::Required(Requirement {
        challenge: i.enrolled.list(),
        enroll,
        can_postpone: grace_open(eff.step_up != Assurance::Password),
        allow_trust,
        counted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use Factor::*;

    fn enrolled(fs: &[Factor]) -> Enrolled {
        Enrolled {
            totp: fs.contains(&Totp),
            passkeys: fs.contains(&Passkey) as usize,
            backup_codes: if fs.contains(&BackupCode) { 5 } else { 0 },
            sms: fs.contains(&Sms),
            email: fs.contains(&Email),
        }
    }

    fn challenge(fs: &[Factor]) -> Decision {
        Decision::Required(Requirement {
            challenge: fs.to_vec(),
            enroll: vec![],
            can_postpone: false,
            allow_trust: true,
            counted: None,
        })
    }

    fn enrol(challenge: &[Factor], enroll: &[Factor]) -> Decision {
        Decision::Required(Requirement {
            challenge: challenge.to_vec(),
            enroll: enroll.to_vec(),
            can_postpone: false,
            allow_trust: true,
            counted: None,
        })
    }

    const PASS: Decision = Decision::Satisfied { factor: None, by_device: false };

    /// Codes sent by SMS or email count for `optional` and `any` only (DESIGN §2), whoever
    /// asks for more: the policy, a group, or the request's step-up.
    #[test]
    fn out_of_band_codes_satisfy_optional_and_any_only() {
        use Policy as P;
        let settings = Settings { mfa_allowed_factors: vec![Totp, Passkey, Sms, Email], ..Settings::default() };
        let decide_for = |policy: P, factors: &[Factor], step_up: Assurance| {
            let settings = Settings { mfa_policy: policy, ..settings.clone() };
            let app = AppPolicy::default();
            decide(&Inputs { step_up, enrolled: enrolled(factors), ..base(&settings, &app) })
        };
        let pw = Assurance::Password;
        assert_eq!(decide_for(P::Optional, &[Sms], pw), challenge(&[Sms]));
        assert_eq!(decide_for(P::Any, &[Email, Sms], pw), challenge(&[Sms, Email]));
        assert_eq!(decide_for(P::Any, &[], pw), enrol(&[], &[Passkey, Totp, Sms, Email]));
        assert_eq!(decide_for(P::Otp, &[Sms, Email], pw), enrol(&[Sms, Email], &[Passkey, Totp]));
        assert_eq!(decide_for(P::Otp, &[Sms, Totp], pw), challenge(&[Totp]));
        assert_eq!(decide_for(P::Passkey, &[Sms], pw), enrol(&[Sms], &[Passkey]));
        assert_eq!(decide_for(P::Disabled, &[Sms], Assurance::SecondFactor), challenge(&[Sms]));
        assert_eq!(decide_for(P::Disabled, &[Sms], Assurance::PhishingResistant), enrol(&[Sms], &[Passkey]));
        // A session whose last factor was a text message does not count for `otp`.
        let settings = Settings { mfa_policy: P::Otp, ..settings.clone() };
        let app = AppPolicy::default();
        let i = Inputs { enrolled: enrolled(&[Sms, Totp]), session_mfa: Some((Sms, 999_990)), ..base(&settings, &app) };
        assert!(matches!(decide(&i), Decision::Required(r) if r.challenge == vec![Totp] && r.counted == Some(Sms)));
        assert!(!satisfiable(P::Otp, &[Sms, Email]));
        assert!(satisfiable(P::Any, &[Email]));
    }

    /// global × app override × group minimum × the user's factors × step-up → outcome.
    #[test]
    #[allow(clippy::type_complexity)]
    fn policy_matrix() {
        use Policy as P;
        #[rustfmt::skip]
        let rows: Vec<(P, Option<P>, Option<P>, &[Factor], Assurance, Decision)> = vec![
            // global, app, group, user's factors, step-up, outcome
            (P::Disabled, None, None, &[Totp], Assurance::Password, PASS),
            (P::Optional, None, None, &[], Assurance::Password, PASS),
            (P::Optional, None, None, &[Totp], Assurance::Password, challenge(&[Totp])),
            (P::Optional, None, None, &[Totp, BackupCode], Assurance::Password, challenge(&[Totp, BackupCode])),
            (P::Any, None, None, &[], Assurance::Password, enrol(&[], &[Passkey, Totp])),
            (P::Any, None, None, &[Passkey, Totp], Assurance::Password, challenge(&[Passkey, Totp])),
            (P::Any, Some(P::Disabled), None, &[Totp], Assurance::Password, PASS),
            (P::Disabled, Some(P::Any), None, &[Totp], Assurance::Password, challenge(&[Totp])),
            (P::Disabled, Some(P::Disabled), Some(P::Any), &[Totp], Assurance::Password, challenge(&[Totp])),
            (P::Disabled, None, Some(P::Otp), &[], Assurance::Password, enrol(&[], &[Passkey, Totp])),
            (P::Otp, None, None, &[Totp], Assurance::Password, challenge(&[Totp])),
            (P::Otp, None, None, &[Passkey], Assurance::Password, challenge(&[Passkey])),
            (P::Passkey, None, None, &[Totp], Assurance::Password, enrol(&[Totp], &[Passkey])),
            (P::Passkey, None, None, &[Totp, BackupCode], Assurance::Password, enrol(&[Totp, BackupCode], &[Passkey])),
            (P::Passkey, None, None, &[Passkey, BackupCode], Assurance::Password, challenge(&[Passkey, BackupCode])),
            // Backup codes alone: no free pass, and no challenge under `optional`.
            (P::Any, None, None, &[BackupCode], Assurance::Password, enrol(&[BackupCode], &[Passkey, Totp])),
            (P::Optional, None, None, &[BackupCode], Assurance::Password, PASS),
            (P::Any, Some(P::Passkey), None, &[Passkey, Totp], Assurance::Password, challenge(&[Passkey])),
            (P::Disabled, None, None, &[], Assurance::SecondFactor, enrol(&[], &[Passkey, Totp])),
            (P::Disabled, None, None, &[Totp], Assurance::SecondFactor, challenge(&[Totp])),
            (P::Optional, None, None, &[Totp, BackupCode], Assurance::PhishingResistant, enrol(&[Totp, BackupCode], &[Passkey])),
            (P::Optional, None, None, &[Passkey, BackupCode], Assurance::PhishingResistant, challenge(&[Passkey])),
            // Group minimum cannot be lowered by the app.
            (P::Any, Some(P::Optional), Some(P::Passkey), &[Passkey], Assurance::Password, challenge(&[Passkey])),
        ];
        let settings = Settings::default();
        for (n, (global, app, group, factors, step_up, want)) in rows.into_iter().enumerate() {
            let settings = Settings { mfa_policy: global, ..settings.clone() };
            let app = AppPolicy { mfa_policy: app, ..Default::default() };
            let i = Inputs {
                settings: &settings,
                app: &app,
                group_minimum: group,
                step_up,
                freshness_demanded: false,
                enrolled: enrolled(factors),
                session_mfa: None,
                device_trusted: false,
                enroll_deadline: None,
                now: 1_000_000,
                plugin: None,
            };
            assert_eq!(decide(&i), want, "row {n}: {global:?} {app:?} {group:?} {factors:?} {step_up:?}");
        }
    }

    fn base<'a>(s: &'a Settings, a: &'a AppPolicy) -> Inputs<'a> {
        Inputs {
            settings: s,
            app: a,
            group_minimum: None,
            step_up: Assurance::Password,
            freshness_demanded: false,
            enrolled: enrolled(&[Totp]),
            session_mfa: None,
            device_trusted: false,
            enroll_deadline: None,
            now: 1_000_000,
            plugin: None,
        }
    }

    #[test]
    fn session_mfa_counts_within_the_smallest_interval() {
        let s = Settings { mfa_policy: Policy::Any, mfa_reauth_interval_minutes: 60, ..Default::default() };
        let a = AppPolicy { reauth_interval_minutes: 10, ..Default::default() };
        let mut i = base(&s, &a);
        i.session_mfa = Some((Totp, i.now - 9 * 60));
        assert_eq!(decide(&i), Decision::Satisfied { factor: Some(Totp), by_device: false });
        i.session_mfa = Some((Totp, i.now - 10 * 60));
        assert_eq!(decide(&i), challenge(&[Totp]));
        // Interval 0 everywhere: once per SSO session.
        let s0 = Settings { mfa_policy: Policy::Any, ..Default::default() };
        let a0 = AppPolicy::default();
        let mut i = base(&s0, &a0);
        i.session_mfa = Some((Totp, 0));
        assert_eq!(decide(&i), Decision::Satisfied { factor: Some(Totp), by_device: false });
        // A stale verification no longer shows in tokens even where MFA is not required.
        let sd = Settings { mfa_policy: Policy::Disabled, mfa_reauth_interval_minutes: 5, ..Default::default() };
        let mut i = base(&sd, &a0);
        i.session_mfa = Some((Totp, i.now - 301));
        assert_eq!(decide(&i), PASS);
    }

    #[test]
    fn session_factor_must_qualify() {
        let s = Settings { mfa_policy: Policy::Passkey, ..Default::default() };
        let a = AppPolicy::default();
        let mut i = base(&s, &a);
        i.enrolled = enrolled(&[Totp, Passkey, BackupCode]);
        i.session_mfa = Some((Totp, i.now));
        let Decision::Required(r) = decide(&i) else { panic!() };
        assert_eq!((r.challenge, r.counted), (vec![Passkey, BackupCode], Some(Totp)));
        i.session_mfa = Some((BackupCode, i.now));
        assert_eq!(decide(&i), Decision::Satisfied { factor: Some(BackupCode), by_device: false });
        i.step_up = Assurance::PhishingResistant;
        let Decision::Required(r) = decide(&i) else { panic!() };
        assert_eq!(r.challenge, vec![Passkey]);
    }

    #[test]
    fn device_trust_skips_only_the_static_policy() {
        let s = Settings { mfa_policy: Policy::Any, ..Default::default() };
        let a = AppPolicy::default();
        let mut i = base(&s, &a);
        i.device_trusted = true;
        assert_eq!(decide(&i), Decision::Satisfied { factor: None, by_device: true });
        i.step_up = Assurance::SecondFactor;
        assert_eq!(decide(&i), challenge(&[Totp]));
        i.step_up = Assurance::Password;
        i.freshness_demanded = true;
        assert_eq!(decide(&i), challenge(&[Totp]));
        i.freshness_demanded = false;
        let off = AppPolicy { allow_trusted_devices: false, ..Default::default() };
        i.app = &off;
        assert!(matches!(decide(&i), Decision::Required(Requirement { allow_trust: false, .. })));
        let s_off = Settings { trusted_device_duration_days: 0, ..s.clone() };
        i.app = &a;
        i.settings = &s_off;
        assert!(matches!(decide(&i), Decision::Required(_)));
    }

    #[test]
    fn enrolment_grace_and_enforcement() {
        let s = Settings { mfa_policy: Policy::Disabled, mfa_enforce_enrollment: true, ..Default::default() };
        let a = AppPolicy::default();
        let mut i = base(&s, &a);
        i.enrolled = Enrolled::default();
        assert_eq!(decide(&i), enrol(&[], &[Passkey, Totp]));
        let g = Settings { mfa_policy: Policy::Any, mfa_enrollment_grace_period: 7, ..Default::default() };
        i.settings = &g;
        let Decision::Required(r) = decide(&i) else { panic!() };
        assert!(r.can_postpone);
        i.enroll_deadline = Some(i.now - 1);
        let Decision::Required(r) = decide(&i) else { panic!() };
        assert!(!r.can_postpone, "grace is over");
        i.enroll_deadline = Some(i.now + 10);
        i.step_up = Assurance::SecondFactor;
        let Decision::Required(r) = decide(&i) else { panic!() };
        assert!(!r.can_postpone, "an explicit step-up is never postponed");
    }

    #[test]
    fn unsatisfiable_policy_denies() {
        let s = Settings { mfa_policy: Policy::Passkey, mfa_allowed_factors: vec![Totp], ..Default::default() };
        let a = AppPolicy::default();
        let mut i = base(&s, &a);
        i.enrolled = Enrolled::default();
        assert!(matches!(decide(&i), Decision::Denied { .. }));
    }

    /// DESIGN §2 step 3: a plugin only tightens.
    #[test]
    fn plugin_verdict_floor_rule() {
        let a = AppPolicy::default();
        let any = Settings { mfa_policy: Policy::Any, ..Default::default() };
        let mut i = base(&any, &a);
        let weaker = Verdict { policy: Some(Policy::Disabled), ..Default::default() };
        i.plugin = Some(&weaker);
        assert_eq!(decide(&i), challenge(&[Totp]), "`disabled` from a plugin under `any` still needs MFA");

        let optional = Settings { mfa_policy: Policy::Optional, ..Default::default() };
        let mut i = base(&optional, &a);
        let passkey = Verdict { policy: Some(Policy::Passkey), ..Default::default() };
        i.plugin = Some(&passkey);
        assert_eq!(decide(&i), enrol(&[Totp], &[Passkey]), "`passkey` from a plugin under `optional`");

        // Narrowing: only passkeys count, also for the session's fresh TOTP.
        let narrow = Verdict { allowed_factors: Some(vec![Passkey]), ..Default::default() };
        let mut i = base(&any, &a);
        i.enrolled = enrolled(&[Totp, Passkey, BackupCode]);
        i.session_mfa = Some((Totp, i.now));
        i.plugin = Some(&narrow);
        let Decision::Required(r) = decide(&i) else { panic!() };
        assert_eq!((r.challenge, r.counted), (vec![Passkey], None));

        // Veto of the trusted-device skip; the smaller interval; deny.
        let veto =
            Verdict { allow_trusted_device: Some(false), reauth_interval_minutes: Some(5), ..Default::default() };
        let mut i = base(&any, &a);
        i.device_trusted = true;
        i.plugin = Some(&veto);
        assert!(matches!(decide(&i), Decision::Required(Requirement { allow_trust: false, .. })));
        assert_eq!(effective(&i).interval_seconds, 300);
        i.device_trusted = false;
        i.session_mfa = Some((Totp, i.now - 301));
        assert_eq!(decide(&i), Decision::Required(Requirement { allow_trust: false, ..challenge_req(&[Totp]) }));
        let deny = Verdict { deny: Some("no".into()), ..Default::default() };
        i.plugin = Some(&deny);
        assert_eq!(decide(&i), Decision::Denied { reason: "no".into() });
    }

    fn challenge_req(fs: &[Factor]) -> Requirement {
        let Decision::Required(r) = challenge(fs) else { unreachable!() };
        r
    }
}
