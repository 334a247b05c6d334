//! Cookies: `__Host-` prefix, `Secure`, `HttpOnly`, `SameSite` (DESIGN §5, RFC 6265bis §4.1.3.2).
//! Dev mode (plain-http localhost) drops the prefix and `Secure`, which browsers would refuse.

use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use cookie::time::Duration;

use crate::crypto;
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

pub fn session_token(state: &AppState, jar: &CookieJar) -> Option<String> {
    jar.get(names(state).session).map(|c| c.value().to_owned())
}

pub fn set_session(state: &AppState, jar: CookieJar, token: String) -> CookieJar {
    let n = names(state);
    let mut c = base(n.session, token, n.secure);
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
