//! Server-rendered pages (askama, auto-escaped) and the one stylesheet. No JavaScript is
//! needed to sign in.

use askama::Template;

pub const STYLESHEET: &str = include_str!("static/portcullis.css");
/// WebAuthn ceremonies, print and copy; the pages work without it except for passkeys.
pub const SCRIPT: &str = include_str!("static/portcullis.js");

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage<'a> {
    pub csrf: &'a str,
    pub request: Option<&'a str>,
    pub app_name: Option<&'a str>,
    pub username: &'a str,
    pub error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage<'a> {
    pub title: &'a str,
    pub message: &'a str,
    pub is_error: bool,
    pub link: Option<(&'a str, &'a str)>,
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage<'a> {
    pub username: &'a str,
    pub csrf: &'a str,
}

#[derive(Template)]
#[template(path = "logout.html")]
pub struct LogoutPage<'a> {
    pub csrf: &'a str,
    pub app_name: Option<&'a str>,
    pub id_token_hint: Option<&'a str>,
    pub client_id: Option<&'a str>,
    pub post_logout_redirect_uri: Option<&'a str>,
    pub state: Option<&'a str>,
}

pub struct DemoClaims {
    pub sub: String,
    pub username: String,
    pub amr: String,
    pub acr: String,
    pub auth_time: String,
    pub iss: String,
    pub aud: String,
    pub raw: String,
}

#[derive(Template)]
#[template(path = "demo.html")]
pub struct DemoPage {
    pub claims: Option<DemoClaims>,
    pub logout_url: String,
}

#[derive(Template)]
#[template(path = "mfa_challenge.html")]
pub struct MfaChallengePage<'a> {
    pub csrf: &'a str,
    pub app_name: Option<&'a str>,
    pub error: Option<&'a str>,
    pub totp: bool,
    pub passkey: bool,
    pub backup: bool,
    pub enroll_next: bool,
}

pub struct TotpSetup {
    pub secret: String,
    pub qr_base64: String,
}

#[derive(Template)]
#[template(path = "mfa_enroll.html")]
pub struct MfaEnrollPage<'a> {
    pub csrf: &'a str,
    pub app_name: Option<&'a str>,
    pub error: Option<&'a str>,
    pub totp: Option<TotpSetup>,
    pub passkey: bool,
    pub can_postpone: bool,
    pub deadline: Option<String>,
}

#[derive(Template)]
#[template(path = "trust_device.html")]
pub struct TrustDevicePage<'a> {
    pub csrf: &'a str,
    pub trust_token: &'a str,
    pub request: Option<&'a str>,
    pub default_name: &'a str,
    pub days: i64,
}
