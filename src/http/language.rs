//! `POST /language`: the visitor's choice of language, kept in a cookie (it overrides the
//! browser's `Accept-Language`), then back to the page the menu was on.

use axum::extract::{Form, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::Deserialize;

use crate::state::AppState;
use crate::web::i18n::{self, Lang};

#[derive(Deserialize)]
pub struct LanguageForm {
    #[serde(default)]
    lang: String,
    #[serde(default)]
    back: String,
}

/// A path on this site to go back to: absolute, not protocol-relative, no backslashes (which
/// some browsers read as slashes), bounded; anything else goes to the start page.
fn local_path(back: &str) -> &str {
    let ok = back.starts_with('/')
        && !back.starts_with("//")
        && !back.contains('\\')
        && back.len() <= 512
        && !back.chars().any(char::is_control);
    if ok { back } else { "/" }
}

/// The menu was submitted from one of our pages: another site cannot switch a visitor's
/// language (a cross-site form post carries its own `Origin`, or `Sec-Fetch-Site`).
fn from_our_pages(state: &AppState, headers: &HeaderMap) -> bool {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    match (text("origin"), text("sec-fetch-site")) {
        (Some(origin), _) => origin.eq_ignore_ascii_case(&state.issuer_origin),
        (None, Some(site)) => matches!(site, "same-origin" | "none"),
        (None, None) => true,
    }
}

pub async fn choose(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(f): Form<LanguageForm>,
) -> Response {
    let back = local_path(&f.back).to_owned();
    let Some(lang) = Lang::parse(&f.lang).filter(|_| from_our_pages(&state, &headers)) else {
        return Redirect::to(&back).into_response();
    };
    let cookie = Cookie::build((i18n::COOKIE, lang.tag()))
        .path("/")
        .http_only(true)
        .secure(state.config.issuer.starts_with("https://"))
        .same_site(SameSite::Lax)
        .max_age(cookie::time::Duration::days(365))
        .build();
    (jar.add(cookie), Redirect::to(&back)).into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_local_paths() {
        use super::local_path;
        assert_eq!(local_path("/login?request=abc"), "/login?request=abc");
        for bad in ["https://evil.example/", "//evil.example", "/\\evil.example", "login", "", "/a\nb"] {
            assert_eq!(local_path(bad), "/", "{bad:?}");
        }
    }
}
