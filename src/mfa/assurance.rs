//! How strongly a login proved who the user is, in one currency for every protocol: a
//! request asks for a minimum (OIDC `acr_values`, SAML `RequestedAuthnContext`), a finished
//! login achieved one, and the protocol modules alone turn it into their words (OIDC `acr`,
//! SAML `AuthnContextClassRef`), so both report the same strength for the same login.

use super::policy::Factor;

/// Weakest first: the derived order is the order of strength.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Assurance {
    /// A password alone (as a request's minimum: no step-up).
    #[default]
    Password,
    /// A second factor was verified.
    SecondFactor,
    /// A phishing-resistant factor (a passkey) was verified.
    PhishingResistant,
}

impl Assurance {
    /// The name it is stored under.
    pub fn as_str(self) -> &'static str {
        match self {
            Assurance::Password => "password",
            Assurance::SecondFactor => "second_factor",
            Assurance::PhishingResistant => "phishing_resistant",
        }
    }

    pub fn parse(s: &str) -> Option<Assurance> {
        [Assurance::Password, Assurance::SecondFactor, Assurance::PhishingResistant]
            .into_iter()
            .find(|a| a.as_str() == s)
    }

    /// What a password login finished with `factor` (the second factor that counts) achieved.
    pub fn achieved(factor: Option<Factor>) -> Assurance {
        match factor {
            None => Assurance::Password,
            Some(Factor::Passkey) => Assurance::PhishingResistant,
            Some(Factor::Totp | Factor::BackupCode | Factor::Sms | Factor::Email) => Assurance::SecondFactor,
        }
    }

    /// The minimum a request asks for, given the levels it accepts: they are alternatives
    /// (OIDC `acr_values`, the classes of a SAML `RequestedAuthnContext`), so the weakest one
    /// decides; none known, no step-up.
    pub fn weakest_of(accepted: impl IntoIterator<Item = Assurance>) -> Assurance {
        accepted.into_iter().min().unwrap_or_default()
    }

    /// The answer to a request that listed `requested` values (in the client's order of
    /// preference), each naming a level or unknown (`None`): the first one this login met,
    /// so that a relying party finds the value it asked for (OpenID Connect Core §5.5.1.1;
    /// SAML with `exact` comparison); `None` when none was met or none was asked.
    pub fn first_met<'a, T: ?Sized>(
        self,
        requested: impl IntoIterator<Item = (&'a T, Option<Assurance>)>,
    ) -> Option<&'a T> {
        requested.into_iter().find(|(_, level)| level.is_some_and(|l| l <= self)).map(|(v, _)| v)
    }
}

crate::text_enum!(Assurance);

/// The authentication methods of a password login finished with `factor`, in RFC 8176 words
/// (OIDC `amr`, and what a plugin sees of a session): `mfa` when more than one factor was
/// used; a backup code is a one-time password (`otp`); a passkey is proof of possession of a
/// key held by an authenticator (`hwk`) with user verification (`user`); a texted code is
/// `sms`; a mailed code is a one-time password received over another channel (`otp`, `mca`:
/// RFC 8176 has no value for email).
pub fn methods(factor: Option<Factor>) -> Vec<&'static str> {
    let mut amr = vec!["pwd"];
    if let Some(f) = factor {
        amr.extend_from_slice(match f {
            Factor::Totp | Factor::BackupCode => &["otp"][..],
            Factor::Passkey => &["hwk", "user"][..],
            Factor::Sms => &["sms"][..],
            Factor::Email => &["otp", "mca"][..],
        });
        amr.push("mfa");
    }
    amr
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strength_by_factor() {
        assert_eq!(Assurance::achieved(None), Assurance::Password);
        assert_eq!(Assurance::achieved(Some(Factor::Totp)), Assurance::SecondFactor);
        assert_eq!(Assurance::achieved(Some(Factor::BackupCode)), Assurance::SecondFactor);
        assert_eq!(Assurance::achieved(Some(Factor::Passkey)), Assurance::PhishingResistant);
        assert!(
            Assurance::Password < Assurance::SecondFactor && Assurance::SecondFactor < Assurance::PhishingResistant
        );
    }

    #[test]
    fn the_weakest_accepted_level_decides() {
        use Assurance::*;
        assert_eq!(Assurance::weakest_of([]), Password);
        assert_eq!(Assurance::weakest_of([PhishingResistant, SecondFactor]), SecondFactor);
        assert_eq!(Assurance::weakest_of([SecondFactor, Password]), Password);
    }

    #[test]
    fn the_first_requested_value_met_answers() {
        use Assurance::*;
        let asked = [("phr", Some(PhishingResistant)), ("other", None), ("mfa", Some(SecondFactor))];
        assert_eq!(SecondFactor.first_met(asked), Some("mfa"));
        assert_eq!(PhishingResistant.first_met(asked), Some("phr"));
        assert_eq!(Password.first_met(asked), None);
    }

    #[test]
    fn methods_name_each_factor() {
        use Factor::*;
        assert_eq!(methods(None), vec!["pwd"]);
        assert_eq!(methods(Some(Totp)), vec!["pwd", "otp", "mfa"]);
        assert_eq!(methods(Some(BackupCode)), vec!["pwd", "otp", "mfa"]);
        assert_eq!(methods(Some(Passkey)), vec!["pwd", "hwk", "user", "mfa"]);
    }
}
