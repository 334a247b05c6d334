//! Bindings for `portcullis:mfa/selector@1.1.0` (`plugins/wit/1.1.0`), frozen with it. 1.1
//! adds codes sent by SMS and email to `factor-kind`; everything else is as in 1.0. They serve
//! every 1.x component from 1.1 on that fits them (wasmtime links `@1.y` imports to `@1.1.0`
//! definitions; a component needing more is refused at upload).

mod bindings {
    wasmtime::component::bindgen!({
        path: "plugins/wit/1.1.0",
        world: "selector",
    });
}

/// The first version these bindings serve.
pub const MIN_VERSION: WorldVersion = WorldVersion { major: 1, minor: 1, patch: 0 };

super::glue::selector_host!();

fn factor(f: Factor) -> Option<t::FactorKind> {
    Some(match f {
        Factor::Totp => t::FactorKind::Totp,
        Factor::Passkey => t::FactorKind::Passkey,
        Factor::BackupCode => t::FactorKind::BackupCode,
        Factor::Sms => t::FactorKind::Sms,
        Factor::Email => t::FactorKind::Email,
    })
}

fn factor_back(f: t::FactorKind) -> Factor {
    match f {
        t::FactorKind::Totp => Factor::Totp,
        t::FactorKind::Passkey => Factor::Passkey,
        t::FactorKind::BackupCode => Factor::BackupCode,
        t::FactorKind::Sms => Factor::Sms,
        t::FactorKind::Email => Factor::Email,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 1.1 component sees every factor, codes sent by SMS and email included.
    #[test]
    fn a_1_1_component_sees_out_of_band_factors() {
        let c: ctx::LoginContext = serde_json::from_value(serde_json::json!({
            "now": 1,
            "static_policy": "any",
            "user": {"id": "u1", "username": "alice"},
            "factors": [{"kind": "sms", "name": "+1***5671"}, {"kind": "email", "name": "a***@example.com"}],
        }))
        .unwrap();
        let w = to_wit(&c);
        assert!(matches!(
            w.factors[..],
            [t::EnrolledFactor { kind: t::FactorKind::Sms, .. }, t::EnrolledFactor { kind: t::FactorKind::Email, .. }]
        ));
    }
}
