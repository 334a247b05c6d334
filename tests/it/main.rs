//! Integration tests: one module per capability or security property. Each test starts a
//! real server on port 0 and runs on SQLite and on PostgreSQL.

mod common;

mod api_login;
mod browser_passkey;
mod cli;
mod client_auth;
mod code_single_use;
mod cookies_and_headers;
mod csrf;
mod independent_clients;
mod keys;
mod logout;
mod mfa_admin_api;
mod mfa_backup_codes;
mod mfa_devices;
mod mfa_json_api;
mod mfa_last_factor;
mod mfa_lockout;
mod mfa_no_bypass;
mod mfa_passkeys;
mod mfa_step_up;
mod mfa_totp_login;
mod mfa_totp_replay;
mod oidc_flow;
mod ops;
mod password_work;
mod pkce;
mod plugin_fixtures;
mod plugin_limits;
mod plugin_pages;
mod plugins_login;
mod profile_pages;
mod prompt_and_max_age;
mod redirect_uri;
mod refresh_rotation;
mod saml_registration;
mod saml_sso;
mod sqlite_wal;
mod token_errors;
