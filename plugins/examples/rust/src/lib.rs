//! Reference policy "risk-based", in Rust: a sign-in that looks unusual needs a second
//! factor; an ordinary one keeps the static policy (global, group and app settings).
//!
//! Unusual means any of the risk signals Portcullis computes: a device (browser) this user
//! has not signed in from, an IP address not seen for this user in the last 90 days, a
//! password changed in the last 24 hours, or three or more failed attempts in the last
//! hour. An unusual sign-in may not skip the challenge on a trusted device either.
//!
//! It decides exactly as `../js/risk-based.js` does, so the two can be compared (and are, by
//! Portcullis's plugin benchmark).

wit_bindgen::generate!({
    world: "selector",
    path: "../../wit/1.0.0",
});

use portcullis::mfa::host;
use portcullis::mfa::types::Policy;

const FAILED_ATTEMPTS_LIMIT: u32 = 3;

struct RiskBased;

impl Guest for RiskBased {
    fn evaluate(ctx: LoginContext) -> Result<Decision, String> {
        let s = &ctx.signals;
        let mut risks: Vec<String> = Vec::new();
        if s.new_device {
            risks.push("new device".into());
        }
        if s.new_ip {
            risks.push("new IP address".into());
        }
        if s.password_changed_recently {
            risks.push("password changed recently".into());
        }
        if s.recent_failed_attempts >= FAILED_ATTEMPTS_LIMIT {
            risks.push(format!("{} failed attempts in the last hour", s.recent_failed_attempts));
        }
        if risks.is_empty() {
            return Ok(decision(ctx.static_policy, None, "no risk signal".into()));
        }
        let reason = format!("risk: {}", risks.join(", "));
        host::log(&format!("{}: {reason}", ctx.user.username));
        Ok(decision(stronger(ctx.static_policy, Policy::Any), Some(false), reason))
    }
}

/// A decision that sets the policy, optionally vetoes the trusted-device skip, and gives a
/// reason; every other field is "no opinion".
fn decision(policy: Policy, allow_trusted_device: Option<bool>, reason: String) -> Decision {
    Decision {
        policy,
        allowed_factors: None,
        reauth_interval_minutes: None,
        allow_trusted_device,
        deny: None,
        reason: Some(reason),
    }
}

/// The stronger of two policies (Portcullis applies this floor rule anyway; applying it here
/// keeps the recorded decision honest about what will happen).
fn stronger(a: Policy, b: Policy) -> Policy {
    let rank = |p: Policy| match p {
        Policy::Disabled => 0,
        Policy::Optional => 1,
        Policy::Any => 2,
        Policy::Otp => 3,
        Policy::Passkey => 4,
    };
    if rank(a) >= rank(b) { a } else { b }
}

export!(RiskBased);
