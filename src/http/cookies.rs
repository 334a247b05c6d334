//! Cookies: `__Host-` prefix, `Secure`, `HttpOnly`, `SameSite` (DESIGN §5, RFC 6265bis §4.1.3.2).
//! Dev mode (plain-http localhost) drops the prefix and `Secure`, which browsers would refuse.

use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use cookie::time::Duration;

use crate::crypto::{self, Secret};
use crate::state::AppState;

pub struct Names {
    pub session: &'static str,
    pub csrf: &'static str,
    pub secure: bool,
}

pub fn names(state: &AppState) -> Names {
    if state.config.dev_mode && !state.config.is_https() {
        Names { session: "portcullis_session", csrf: "portcullis_csrf", secure: false }
    } else {
        Names { session: "__Host-portcullis_session", csrf: "__Host-portcullis_csrf", secure: true }
    }
}

fn base(name: &'static str, value: String, secure: bool) -> Cookie<'static> {
    Cookie::build((name, value)).path("/").secure(secure).http_only(true).same_site(SameSite::Lax).build()
}

pub fn session_token(state: &AppState, jar: &CookieJar) -> Option<Secret> {
    jar.get(names(state).session).map(|c| c.value().into())
}

pub fn set_session(state: &AppState, jar: CookieJar, token: Secret) -> CookieJar {
    let n = names(state);
    let mut c = base(n.session, token.into_inner(), n.secure);
    c.set_max_age(Duration::minutes(state.config.session.absolute_timeout_minutes));
    jar.add(c)
}

pub fn clear_session(state: &AppState, jar: CookieJar) -> CookieJar {
    let n = names(state);
    let mut c = base(n.session, String::new(), n.secure);
    c.make_removal();
    jar.add(c)
}

/// The CSRF token (double-submit cookie): the cookie's value, created when missing.
pub fn csrf_token(state: &AppState, jar: CookieJar) -> (CookieJar, String) {
    let n = names(state);
    if let Some(c) = jar.get(n.csrf)
        && c.value().len() == 43
    {
        let v = c.value().to_owned();
        return (jar, v);
    }
    let v = crypto::random_token();
    (jar.add(base(n.csrf, v.clone(), n.secure)), v)
}

/// A state-changing form must echo the CSRF cookie (OWASP CSRF cheat sheet, double submit;
/// the `__Host-` prefix stops sibling subdomains from planting the cookie).
pub fn verify_csrf(state: &AppState, jar: &CookieJar, submitted: Option<&str>) -> bool {
    match (jar.get(names(state).csrf), submitted) {
        (Some(c), Some(s)) => c.value().len() == 43 && crypto::ct_eq(c.value().as_bytes(), s.as_bytes()),
        _ => false,
    }
}

/// The MFA transaction of a browser sign-in in progress (the `mfa_token`), short-lived.
pub fn mfa_name(state: &AppState) -> &'static str {
    if names(state).secure { "__Host-portcullis_mfa" } else { "portcullis_mfa" }
}

pub fn mfa_token(state: &AppState, jar: &CookieJar) -> Option<Secret> {
    jar.get(mfa_name(state)).map(|c| c.value().into())
}

pub fn set_mfa(state: &AppState, jar: CookieJar, token: Secret) -> CookieJar {
    let mut c = base(mfa_name(state), token.into_inner(), names(state).secure);
    // As long as the longest transaction (a recovery session); the server checks its expiry.
    c.set_max_age(Duration::seconds(crate::login::RECOVERY_SESSION_SECONDS));
    jar.add(c)
}

pub fn clear_mfa(state: &AppState, jar: CookieJar) -> CookieJar {
    let mut c = base(mfa_name(state), String::new(), names(state).secure);
    c.make_removal();
    jar.add(c)
}

/// The trusted-device cookie (`idp_device`): SameSite=Strict, so it only comes along on
/// requests made from Portcullis's own pages, such as the sign-in form.
pub fn device_name(state: &AppState) -> &'static str {
    if names(state).secure { "__Host-idp_device" } else { "idp_device" }
}

pub fn device_token(state: &AppState, jar: &CookieJar) -> Option<Secret> {
    jar.get(device_name(state)).map(|c| c.value().into())
}

pub fn set_device(state: &AppState, jar: CookieJar, token: Secret, expires_at: i64) -> CookieJar {
    let mut c = base(device_name(state), token.into_inner(), names(state).secure);
    c.set_same_site(SameSite::Strict);
    c.set_max_age(Duration::seconds((expires_at - state.now()).max(0)));
    jar.add(c)
}
