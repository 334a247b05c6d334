//! The OpenID Connect words for a login's `Assurance`: `acr` values (OpenID Connect Core §2)
//! and `amr` methods (RFC 8176). Documented in the README and listed in discovery as
//! `acr_values_supported`.

use crate::mfa::assurance::Assurance;

/// Password only.
pub const PASSWORD: &str = "urn:portcullis:acr:pwd";
/// A second factor was verified.
pub const MFA: &str = "urn:portcullis:acr:mfa";
/// A phishing-resistant factor (passkey) was verified.
pub const PHISHING_RESISTANT: &str = "urn:portcullis:acr:phr";
/// REFEDS MFA profile, accepted in `acr_values` as a synonym of `MFA`.
pub const REFEDS_MFA: &str = "https://refeds.org/profile/mfa";
/// Weakest first.
pub const SUPPORTED: &[&str] = &[PASSWORD, MFA, PHISHING_RESISTANT, REFEDS_MFA];

/// Our `acr` value for a level.
pub fn of(a: Assurance) -> &'static str {
    match a {
        Assurance::Password => PASSWORD,
        Assurance::SecondFactor => MFA,
        Assurance::PhishingResistant => PHISHING_RESISTANT,
    }
}

/// The level an `acr` value names, if it is one we know.
pub fn level(acr: &str) -> Option<Assurance> {
    match acr {
        PASSWORD => Some(Assurance::Password),
        MFA | REFEDS_MFA => Some(Assurance::SecondFactor),
        PHISHING_RESISTANT => Some(Assurance::PhishingResistant),
        _ => None,
    }
}

/// The minimum an `acr_values` list asks for: the values are alternatives the client accepts
/// (OpenID Connect Core §3.1.2.1), so the weakest one we know decides; unknown values are
/// ignored.
pub fn wanted(acr_values: Option<&str>) -> Assurance {
    Assurance::weakest_of(acr_values.unwrap_or("").split_ascii_whitespace().filter_map(level))
}

/// The `acr` to put in the ID token: when the client asked with `acr_values` and the login
/// met one of them, that value, the first met in the client's order of preference (OpenID
/// Connect Core §3.1.2.1, §5.5.1.1: a relying party checks the value it asked for, e.g.
/// REFEDS MFA); otherwise what the login achieved, in our own terms. `amr` stays the honest
/// list of methods either way.
pub fn answer(achieved: Assurance, acr_values: Option<&str>) -> &str {
    let asked = acr_values.unwrap_or("").split_ascii_whitespace().map(|v| (v, level(v)));
    achieved.first_met(asked).unwrap_or(of(achieved))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mfa::policy::Factor::{self, *};

    fn achieved(f: Option<Factor>) -> Assurance {
        Assurance::achieved(f)
    }

    #[test]
    fn acr_values_are_alternatives() {
        assert_eq!(wanted(None), Assurance::Password);
        assert_eq!(wanted(Some(REFEDS_MFA)), Assurance::SecondFactor);
        assert_eq!(wanted(Some(PHISHING_RESISTANT)), Assurance::PhishingResistant);
        assert_eq!(wanted(Some(&format!("{PHISHING_RESISTANT} {MFA}"))), Assurance::SecondFactor);
        assert_eq!(wanted(Some(&format!("{MFA} {PASSWORD}"))), Assurance::Password);
        assert_eq!(wanted(Some("urn:other")), Assurance::Password);
    }

    #[test]
    fn acr_echoes_the_first_requested_value_the_login_met() {
        assert_eq!(answer(achieved(Some(Totp)), Some(REFEDS_MFA)), REFEDS_MFA);
        assert_eq!(answer(achieved(Some(Passkey)), Some(REFEDS_MFA)), REFEDS_MFA);
        // Not met: our own value, never the one asked for.
        assert_eq!(answer(achieved(None), Some(REFEDS_MFA)), PASSWORD);
        assert_eq!(answer(achieved(Some(Totp)), Some(PHISHING_RESISTANT)), MFA);
        // Preference order: the first value met wins.
        let both = format!("{PHISHING_RESISTANT} {REFEDS_MFA}");
        assert_eq!(answer(achieved(Some(Totp)), Some(&both)), REFEDS_MFA);
        assert_eq!(answer(achieved(Some(Passkey)), Some(&both)), PHISHING_RESISTANT);
        // Unknown values are never echoed.
        assert_eq!(answer(achieved(Some(Passkey)), Some("urn:other")), PHISHING_RESISTANT);
        assert_eq!(answer(achieved(Some(Totp)), None), MFA);
        assert_eq!(answer(achieved(Some(BackupCode)), None), MFA);
    }
}
