//! Portcullis: a self-hosted identity provider (OpenID Connect, SAML 2.0) with a policy-driven
//! MFA step. `app(state)` is the one entry point: the binary serves it, tests drive it.

pub mod admin;
pub mod audit;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod delivery;
pub mod demo;
pub mod error;
pub mod http;
pub mod login;
pub mod metrics;
pub mod mfa;
pub mod oidc;
pub mod plugin_host;
pub mod saml;
pub mod server;
pub mod state;
pub mod store;
pub mod turns;
pub mod web;

pub use state::AppState;

/// The whole HTTP application for a state.
pub fn app(state: AppState) -> axum::Router {
    http::router(state, axum::Router::new())
}

/// The application with the demo relying party (`serve --demo`) beside it.
pub fn app_with_demo(state: AppState) -> axum::Router {
    http::router(state.clone(), demo::router(state))
}
