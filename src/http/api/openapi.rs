//! The OpenAPI 3.1 description of `/api/v1`, served at `/api/v1/openapi.json`. It is generated
//! from the code: each handler's `#[utoipa::path]` (method, path, parameters, body, answers)
//! and the `ToSchema` derives of the very types the handlers read and write. What every
//! operation shares is added once here (`Conventions`): the session cookie for the routes
//! that need one, and the error answers in the API's one format (`ApiError`).
//!
//! A unit test reads the router (`mod.rs`) and fails when a route is missing from this
//! document, or the document names a route the router does not have.

use std::sync::{Arc, OnceLock};

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Content, Header, Ref, RefOr, Server};
use utoipa::{Modify, OpenApi, ToSchema};

use super::{admin, auth, me, plugins, recovery};
use crate::state::AppState;

/// Every error of the JSON API (and a refused sign-in, `access_denied`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiError {
    /// A stable code programs can match on: `invalid_request`, `unauthorized`,
    /// `invalid_credentials`, `invalid_factor`, `expired_token`, `invalid_link`, `forbidden`,
    /// `mfa_required`, `not_found`, `conflict`, `rate_limited`, `too_many_attempts`,
    /// `access_denied`, `temporarily_unavailable`.
    #[schema(example = "invalid_request")]
    pub error: String,
    /// What went wrong, in English.
    #[schema(example = "username: missing field")]
    pub error_description: String,
    /// A refused sign-in of a waiting authorization request: where the application learns of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_to: Option<String>,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Portcullis API",
        description = "The JSON API of Portcullis: signing in without a browser page (the MFA step \
            included), the signed-in user's own factors and devices, and administration. Calls are \
            authorised by the session cookie a sign-in sets. A browser's state-changing calls must \
            come from the issuer's own origin, and a body must be `application/json` (a plugin \
            upload: `application/wasm`). Errors are `{\"error\", \"error_description\"}`.",
        license(name = "Apache-2.0")
    ),
    paths(
        serve,
        auth::login, auth::mfa_totp, auth::mfa_backup_code, auth::mfa_sms, auth::mfa_email,
        auth::send_sms, auth::send_email, auth::mfa_passkey_begin, auth::mfa_passkey_finish,
        auth::postpone_enrollment, auth::step_up,
        recovery::ask_recovery, recovery::open_recovery, recovery::ask_reset, recovery::reset_password,
        me::totp_delete, me::totp_enroll, me::totp_confirm, me::passkey_register_begin,
        me::passkey_register_finish, me::passkeys_list, me::passkey_get, me::passkey_patch,
        me::passkey_delete, me::backup_codes_status, me::backup_codes_generate, me::sms_enroll,
        me::sms_confirm, me::email_enroll, me::email_confirm, me::factors_list, me::factor_delete,
        me::factor_primary, me::devices_list, me::devices_create, me::devices_delete, me::mfa_status,
        me::password_change,
        admin::settings_get, admin::settings_patch, admin::apps_list, admin::oidc_app_create,
        admin::saml_app_create, admin::app_get, admin::app_patch, admin::app_delete, admin::groups_list,
        admin::group_put, admin::group_member_put, admin::group_member_delete, admin::users_list,
        admin::user_create, admin::user_disable, admin::user_enable, admin::user_reset_mfa,
        admin::user_mfa, admin::user_factor_delete, admin::user_backup_codes, admin::user_recovery_link,
        admin::stats, admin::webhooks_list, admin::webhook_create, admin::webhook_get,
        admin::webhook_patch, admin::webhook_delete, admin::webhook_rotate, admin::webhook_test,
        admin::webhook_deliveries, admin::audit, admin::delivery_test, admin::outbox,
        plugins::list, plugins::upload, plugins::show, plugins::delete, plugins::assign,
        plugins::unassign, plugins::test, plugins::replay, plugins::decisions,
    ),
    components(schemas(ApiError, crate::plugin_host::context::Decision, crate::plugin_host::Failure)),
    modifiers(&Conventions),
    tags(
        (name = "sign-in", description = "A sign-in without a browser page: the password, then the MFA step"),
        (name = "recovery", description = "The way back in: recovery and password-reset links"),
        (name = "account", description = "The caller's own factors, trusted devices and password"),
        (name = "admin", description = "Settings, policies, apps, groups, users, webhooks and the logs (administrators)"),
        (name = "plugins", description = "Selector plugins (administrators)"),
        (name = "meta", description = "This description"),
    )
)]
pub struct ApiDoc;

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json", body = Object)))]
pub async fn serve(State(state): State<AppState>, built: Arc<OnceLock<String>>) -> Response {
    // Built on the first request, then kept: it only changes with the binary.
    let doc = built.get_or_init(|| document(&state.issuer_origin));
    ([(header::CONTENT_TYPE, "application/json")], doc.clone()).into_response()
}

/// The document for a server whose issuer's origin is `origin`, as JSON.
pub fn document(origin: &str) -> String {
    let mut doc = ApiDoc::openapi();
    doc.servers = Some(vec![Server::new(origin)]);
    doc.to_json().unwrap_or_else(|e| format!("{{\"error\":\"server_error\",\"error_description\":\"{e}\"}}"))
}

/// The errors each kind of operation can answer, as shared responses.
const ERRORS: [(&str, &str, &str); 9] = [
    ("400", "BadRequest", "The input is not acceptable (`invalid_request`, `expired_token`, `invalid_link`)"),
    ("401", "Unauthorized", "No session, or the credentials or the factor are wrong"),
    ("403", "Forbidden", "Not allowed: not an administrator, a second factor is needed first, or a cross-site call"),
    ("404", "NotFound", "No such thing (or not the caller's)"),
    ("409", "Conflict", "It clashes with what exists"),
    ("413", "PayloadTooLarge", "The body is too large"),
    ("415", "UnsupportedMediaType", "A body that is not `application/json`"),
    ("429", "TooManyRequests", "Too many attempts or requests: wait `Retry-After` seconds"),
    ("503", "Unavailable", "Overloaded or the database is unreachable: retry after `Retry-After` seconds"),
];

struct Conventions;

impl Modify for Conventions {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "__Host-portcullis_session",
                "The session cookie a sign-in sets (`portcullis_session` in dev mode over plain HTTP).",
            ))),
        );
        for (status, name, description) in ERRORS {
            let mut response = ResponseBuilder::new()
                .description(description)
                .content("application/json", Content::new(Some(Ref::from_schema_name("ApiError"))));
            if matches!(status, "429" | "503") {
                let seconds = utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::Integer)
                    .minimum(Some(0));
                response = response.header("Retry-After", Header::new(seconds));
            }
            components.responses.insert(name.to_owned(), RefOr::T(response.build()));
        }
        for (path, item) in doc.paths.paths.iter_mut() {
            for (method, op) in operations(item) {
                conventions(path, method, op);
            }
        }
    }
}

fn operations(item: &mut PathItem) -> Vec<(&'static str, &mut Operation)> {
    [
        ("GET", item.get.as_mut()),
        ("POST", item.post.as_mut()),
        ("PUT", item.put.as_mut()),
        ("PATCH", item.patch.as_mut()),
        ("DELETE", item.delete.as_mut()),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.map(|op| (m, op)))
    .collect()
}

/// The session requirement of administration, and the error answers of one operation.
fn conventions(path: &str, method: &str, op: &mut Operation) {
    if path == "/api/v1/openapi.json" {
        return;
    }
    if path.starts_with("/api/v1/admin/") {
        op.security = Some(vec![SecurityRequirement::new("session", Vec::<String>::new())]);
    }
    let mut statuses = vec!["400", "401", "403", "503"];
    if path.contains('{') {
        statuses.push("404");
    }
    if method != "GET" {
        statuses.extend(["409", "413", "415"]);
    }
    if !path.starts_with("/api/v1/admin/") {
        statuses.push("429");
    }
    for status in statuses {
        let (_, name, _) = ERRORS.iter().find(|(s, ..)| *s == status).copied().unwrap_or(ERRORS[0]);
        op.responses.responses.entry(status.to_owned()).or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// The routes of `mod.rs`'s `router`, as (METHOD, full path): each `let NAME =
    /// Router::new()...;` statement holds the routes that the final expression nests under
    /// `.nest("/prefix", NAME)`; the final expression's own `.route(...)`s sit at `/api/v1`.
    fn routes_in_source() -> BTreeSet<(String, String)> {
        let src = include_str!("mod.rs");
        let body = &src[src.find("pub fn router").expect("the router fn")..];
        let body = &body[body.find('{').unwrap() + 1..];
        let statements = split_top_level(body);
        let mut prefixes = std::collections::BTreeMap::new();
        let last = statements.last().expect("a final expression");
        for nest in last.split(".nest(").skip(1) {
            let prefix = string_literal(nest).expect("a nest prefix");
            let var = nest[nest.find(',').unwrap() + 1..nest.find(')').unwrap()].trim().to_owned();
            prefixes.insert(var, prefix);
        }
        let mut routes = BTreeSet::new();
        for st in &statements {
            let st = st.trim();
            let prefix = match st.strip_prefix("let ") {
                Some(rest) if !rest.contains("Router::new()") => continue,
                Some(rest) => {
                    let var = rest[..rest.find('=').unwrap()].trim();
                    prefixes.get(var).unwrap_or_else(|| panic!("`{var}` is not nested")).clone()
                }
                None => String::new(),
            };
            let mut rest = st;
            while let Some(i) = rest.find(".route(") {
                rest = &rest[i + ".route(".len()..];
                let path = string_literal(rest).expect("a route path");
                let call = &rest[..balanced_end(rest)];
                for method in methods(call) {
                    routes.insert((method, format!("/api/v1{prefix}{path}")));
                }
            }
        }
        routes
    }

    /// Statements of a block, split at `;` outside brackets.
    fn split_top_level(body: &str) -> Vec<String> {
        let (mut depth, mut out, mut cur) = (0i32, Vec::new(), String::new());
        for c in body.chars() {
            match c {
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => depth -= 1,
                _ => {}
            }
            if depth < 0 {
                break;
            }
            if c == ';' && depth == 0 {
                out.push(std::mem::take(&mut cur));
            } else {
                cur.push(c);
            }
        }
        out.push(cur);
        out
    }

    fn string_literal(s: &str) -> Option<String> {
        let start = s.find('"')? + 1;
        let end = start + s[start..].find('"')?;
        Some(s[start..end].to_owned())
    }

    /// Where the call whose arguments `s` begins with ends (its closing parenthesis).
    fn balanced_end(s: &str) -> usize {
        let mut depth = 1;
        for (i, c) in s.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        return i;
                    }
                }
                _ => {}
            }
        }
        s.len()
    }

    /// The HTTP methods a route's `MethodRouter` expression names (`get(..)`, `.post(..)`, ...).
    fn methods(call: &str) -> Vec<String> {
        let mut out = Vec::new();
        for m in ["get", "post", "put", "patch", "delete"] {
            let pat = format!("{m}(");
            let mut from = 0;
            while let Some(i) = call[from..].find(&pat) {
                let at = from + i;
                let before = call[..at].chars().next_back().unwrap_or(' ');
                if !(before.is_alphanumeric() || before == '_' || before == ':') {
                    out.push(m.to_uppercase());
                }
                from = at + pat.len();
            }
        }
        out
    }

    fn routes_in_document() -> BTreeSet<(String, String)> {
        let doc: serde_json::Value = serde_json::from_str(&document("https://id.example.com")).unwrap();
        let mut out = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                out.insert((method.to_uppercase(), path.clone()));
            }
        }
        out
    }

    /// Every route of the router is described, and every description is a route.
    #[test]
    fn the_document_describes_every_route_and_nothing_else() {
        let source = routes_in_source();
        assert!(source.len() > 60, "the router's routes were not read: {source:?}");
        assert!(source.contains(&("PATCH".into(), "/api/v1/admin/apps/{id}".into())));
        assert!(source.contains(&("POST".into(), "/api/v1/auth/mfa/totp".into())));
        let documented = routes_in_document();
        let missing: Vec<_> = source.difference(&documented).collect();
        assert!(missing.is_empty(), "routes missing from the OpenAPI document: {missing:?}");
        let extra: Vec<_> = documented.difference(&source).collect();
        assert!(extra.is_empty(), "the OpenAPI document names routes the router does not have: {extra:?}");
    }

    /// 3.1, the session scheme, error answers with their schema, and examples.
    #[test]
    fn the_document_has_security_errors_and_examples() {
        let doc: serde_json::Value = serde_json::from_str(&document("https://id.example.com")).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(doc["servers"][0]["url"], "https://id.example.com");
        assert_eq!(doc["components"]["securitySchemes"]["session"]["in"], "cookie");
        let users = &doc["paths"]["/api/v1/admin/users"]["post"];
        assert_eq!(users["security"][0]["session"], serde_json::json!([]));
        assert_eq!(users["responses"]["403"]["$ref"], "#/components/responses/Forbidden");
        assert_eq!(
            doc["components"]["responses"]["TooManyRequests"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ApiError"
        );
        assert!(doc["components"]["responses"]["TooManyRequests"]["headers"]["Retry-After"].is_object());
        assert_eq!(doc["components"]["schemas"]["LoginBody"]["properties"]["username"]["example"], "alice");
        assert_eq!(doc["components"]["schemas"]["LoginBody"]["additionalProperties"], false);
        assert!(doc["paths"]["/api/v1/auth/login"]["post"].get("security").is_none(), "signing in needs no session");
    }
}
