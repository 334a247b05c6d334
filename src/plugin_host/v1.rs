//! Bindings for `portcullis:mfa/selector@1.0.0` (`plugins/wit/1.0.0`), frozen with it. They
//! serve 1.0 components; 1.1 and later minors run on `v1_1` (a later contract gets a module
//! of its own and a line in `WORLDS`).

mod bindings {
    wasmtime::component::bindgen!({
        path: "plugins/wit/1.0.0",
        world: "selector",
    });
}

/// The first version these bindings serve.
pub const MIN_VERSION: WorldVersion = WorldVersion { major: 1, minor: 0, patch: 0 };

super::glue::selector_host!();

/// The factor as WIT 1.0 names it. 1.0 has no word for codes sent by SMS or email: a 1.0
/// component never sees those factors (they are left out of the context), and since it
/// cannot name them, an `allowed-factors` list it returns excludes them.
fn factor(f: Factor) -> Option<t::FactorKind> {
    match f {
        Factor::Totp => Some(t::FactorKind::Totp),
        Factor::Passkey => Some(t::FactorKind::Passkey),
        Factor::BackupCode => Some(t::FactorKind::BackupCode),
        Factor::Sms | Factor::Email => None,
    }
}

fn factor_back(f: t::FactorKind) -> Factor {
    match f {
        t::FactorKind::Totp => Factor::Totp,
        t::FactorKind::Passkey => Factor::Passkey,
        t::FactorKind::BackupCode => Factor::BackupCode,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// WIT 1.0 has no word for codes sent by SMS or email: a 1.0 component is not shown them.
    #[test]
    fn a_1_0_component_never_sees_out_of_band_factors() {
        let c: ctx::LoginContext = serde_json::from_value(serde_json::json!({
            "now": 1,
            "static_policy": "any",
            "user": {"id": "u1", "username": "alice"},
            "factors": [
                {"kind": "sms", "name": "+1***5671"},
                {"kind": "totp", "name": "Authenticator app"},
                {"kind": "email", "name": "a***@example.com"},
            ],
        }))
        .unwrap();
        let w = to_wit(&c);
        assert_eq!(w.factors.len(), 1);
        assert!(matches!(w.factors[0].kind, t::FactorKind::Totp));
    }
}
