//! The edge of the HTTP surface: what every request passes before a handler sees it, and
//! what every answer the framework makes on its own (a body over the limit, an extractor that
//! could not read the request, a method the route does not have) looks like when it leaves.
//!
//! - Text with a NUL character is refused here, the same on both databases (PostgreSQL cannot
//!   store it, SQLite could): in the path, the query, and form or JSON bodies.
//! - Framework answers in plain text, or with no body, are rewritten into the endpoint's own
//!   format: OAuth error JSON for `/oauth2/*` and `/.well-known/*`, the JSON API's error for
//!   `/api/*`, the HTML error page for people.

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use tracing::Instrument;

use crate::config::ServerConfig;
use crate::error::{AppError, OAuthErrorCode};
use crate::web::brand::{self, Brand};
use crate::web::i18n::{self, Lang};

/// Bodies read here to look for NUL characters; larger ones are left to the route's own limit.
const SCANNED_BODY_LIMIT: usize = 64 * 1024;

/// How errors look on a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// RFC 6749 §5.2 error JSON.
    OAuth,
    /// The JSON API's `{"error", "error_description"}`.
    Api,
    /// The HTML error page.
    Page,
}

pub fn format_for(path: &str) -> Format {
    // Authorization and logout requests come with the person's browser: until the client and
    // its redirect are known good, errors are a page (RFC 6749 §4.1.2.1).
    if matches!(path, "/oauth2/authorize" | "/oauth2/logout") {
        Format::Page
    } else if path.starts_with("/oauth2/") || path.starts_with("/.well-known/") {
        Format::OAuth
    } else if path.starts_with("/api/") {
        Format::Api
    } else {
        Format::Page
    }
}

/// An error answer in the format of `path`.
pub fn error_response(path: &str, e: AppError) -> Response {
    match format_for(path) {
        Format::OAuth | Format::Api => e.into_response(),
        Format::Page => super::error::PageError(e).into_response(),
    }
}

fn has_nul_escape(text: &[u8]) -> bool {
    text.windows(3).any(|w| w[0] == b'%' && w[1] == b'0' && w[2] == b'0')
}

fn nul_refused(path: &str) -> Response {
    let message = "text must not contain NUL characters";
    let e = match format_for(path) {
        Format::OAuth => AppError::oauth(OAuthErrorCode::InvalidRequest, message),
        _ => AppError::BadRequest(message.into()),
    };
    error_response(path, e)
}

/// The request's id: the client's `X-Request-Id` when it is a plain token (a proxy in front
/// may have set it), otherwise a new one. It is in every log line of the request, in the
/// response header, and on error pages as their reference.
fn request_id(req: &Request) -> String {
    req.headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .map_or_else(|| uuid::Uuid::new_v4().simple().to_string(), str::to_owned)
}

const REQUEST_ID: &str = "x-request-id";
/// Where an error page shows its reference.
const REFERENCE_MARK: &str = "<!--portcullis:reference-->";

/// The language the request's pages are written in: the visitor's choice, or their browser's.
fn language(req: &Request) -> Lang {
    let jar = axum_extra::extract::CookieJar::from_headers(req.headers());
    let accept = req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    i18n::negotiate(jar.get(i18n::COOKIE).map(|c| c.value()), accept)
}

/// What the edge needs: the server's limits, the brand the pages show, and the metrics it
/// counts every answer in.
#[derive(Clone)]
pub struct EdgeState {
    pub server: ServerConfig,
    pub brand: Arc<Brand>,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// In dev mode, the issuer a browser on another loopback name is sent to (see
    /// `loopback_alias`); `None` otherwise.
    pub dev_issuer: Option<Arc<url::Url>>,
}

/// In dev mode, a browser that opened a page on another name of this machine than the
/// issuer's (`127.0.0.1` for `localhost`, or the reverse) is sent to the issuer's origin
/// before anything answers: cookies are per host, so a sign-in begun on one name could not
/// finish on the other. Only page navigations (GET or HEAD that ask for HTML) move; API
/// calls, health checks and metrics answer where they are.
fn loopback_alias(issuer: &url::Url, req: &Request) -> Option<String> {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return None;
    }
    let h = req.headers();
    let navigates = h.get("sec-fetch-mode").is_some_and(|v| v == "navigate")
        || h.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("text/html"));
    if !navigates {
        return None;
    }
    let authority: axum::http::uri::Authority = h.get(header::HOST)?.to_str().ok()?.parse().ok()?;
    let name = authority.host();
    let loopback = |n: &str| matches!(n.to_ascii_lowercase().as_str(), "localhost" | "127.0.0.1" | "[::1]");
    let issuer_host = issuer.host_str()?;
    let same_port = authority.port_u16().or(Some(80)) == issuer.port_or_known_default();
    if !loopback(name) || !loopback(issuer_host) || name.eq_ignore_ascii_case(issuer_host) || !same_port {
        return None;
    }
    let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
    Some(format!("{}{}", issuer.origin().ascii_serialization(), path))
}

/// The route template that answered (`/admin/users/{id}`), passed out to the edge on the
/// response: the edge runs before routing, so it cannot see `MatchedPath` itself.
#[derive(Clone)]
struct Route(axum::extract::MatchedPath);

/// Route layer: tells the edge which route answered.
pub async fn matched_route(req: Request, next: Next) -> Response {
    let route = req.extensions().get::<axum::extract::MatchedPath>().cloned();
    let mut resp = next.run(req).await;
    if let Some(r) = route {
        resp.extensions_mut().insert(Route(r));
    }
    resp
}

pub async fn guard(State(edge): State<EdgeState>, req: Request, next: Next) -> Response {
    if let Some(to) = edge.dev_issuer.as_deref().and_then(|issuer| loopback_alias(issuer, &req)) {
        return axum::response::Redirect::temporary(&to).into_response();
    }
    let started = std::time::Instant::now();
    let id = request_id(&req);
    let lang = language(&req);
    // The path only: query strings carry codes, tokens and SAML messages, never logged.
    let path: String = req.uri().path().chars().take(200).collect();
    let method = req.method().clone();
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %method,
        path = %path,
        user_id = tracing::field::Empty
    );
    let handled = brand::scope(edge.brand.clone(), i18n::scope(lang, inner(edge.server, req, next)));
    let mut resp = handled.instrument(span.clone()).await;
    let elapsed = started.elapsed().as_secs_f64();
    let (status, latency_ms) = (resp.status().as_u16(), elapsed * 1000.0);
    let route = resp.extensions().get::<Route>().map(|r| r.0.as_str());
    edge.metrics.http(&method, route, status, elapsed);
    if matches!(path.as_str(), "/healthz" | "/readyz") {
        tracing::debug!(parent: &span, status, latency_ms, "answered");
    } else {
        tracing::info!(parent: &span, status, latency_ms, "answered");
    }
    if resp.status().as_u16() >= 400
        && resp.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"text/html"))
    {
        resp = with_reference(resp, &id, lang).await;
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(REQUEST_ID, v);
    }
    resp
}

/// An error page with its reference filled in (the id people quote to an administrator).
async fn with_reference(resp: Response, id: &str, lang: Lang) -> Response {
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = to_bytes(body, 1024 * 1024).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let html = String::from_utf8_lossy(&bytes);
    if !html.contains(REFERENCE_MARK) {
        return Response::from_parts(parts, Body::from(bytes));
    }
    // The id is letters, digits and dashes (`request_id`): nothing to escape.
    let text = i18n::text_in(lang, "reference", &[("id", "\u{1}")])
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\u{1}', &format!("<code>{id}</code>"));
    let filled = html.replace(REFERENCE_MARK, &format!("<p class=\"muted small\" id=\"reference\">{text}</p>"));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(filled))
}

async fn inner(sv: ServerConfig, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let uri_text = req.uri().path_and_query().map(|p| p.as_str().as_bytes().to_vec()).unwrap_or_default();
    if has_nul_escape(&uri_text) {
        return nul_refused(&path);
    }
    let ct = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    let scanned = ct.starts_with("application/x-www-form-urlencoded") || ct.starts_with("application/json");
    let small = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .is_some_and(|n| n <= SCANNED_BODY_LIMIT);
    let req = if scanned && small {
        let (parts, body) = req.into_parts();
        // The body timeout (between pieces) is outside this layer; the whole read is bounded
        // too, so a client trickling a byte at a time cannot hold the request.
        let whole = std::time::Duration::from_secs(sv.request_timeout_seconds);
        let bytes = match tokio::time::timeout(whole, to_bytes(body, SCANNED_BODY_LIMIT)).await {
            Ok(Ok(b)) => b,
            // The declared length was within the limit: the body stalled or broke off.
            _ => return error_response(&path, AppError::SlowRequest),
        };
        // A raw NUL byte is not JSON at all (the parser refuses it); in JSON only the escape
        // carries one into a string.
        let nul = if ct.starts_with("application/json") {
            json_has_nul(&bytes)
        } else {
            bytes.contains(&0) || has_nul_escape(&bytes)
        };
        if nul {
            return nul_refused(&path);
        }
        Request::from_parts(parts, Body::from(bytes))
    } else {
        req
    };
    let resp = next.run(req).await;
    let mut resp = reformat(&path, resp);
    if matches!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE | StatusCode::REQUEST_TIMEOUT) {
        // The request body was not read to its end: the connection cannot carry another
        // request, and saying so keeps the client from sending its next one down it as the
        // server closes it (RFC 9112 §9.6).
        resp.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    resp
}

/// `\u0000` in a JSON text (not preceded by another backslash that escapes it).
fn json_has_nul(bytes: &[u8]) -> bool {
    let mut i = 0;
    while i + 5 < bytes.len() {
        if bytes[i] == b'\\' {
            if bytes[i + 1] == b'u' && &bytes[i + 2..i + 6] == b"0000" {
                return true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

/// 413 everywhere; its JSON code is `invalid_request`, so OAuth clients read it as RFC 6749's.
fn too_large() -> AppError {
    AppError::PayloadTooLarge("the request body is too large".into())
}

/// Rewrites the framework's own error answers (plain text or empty) into the path's format.
fn reformat(path: &str, resp: Response) -> Response {
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let ct = resp.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let ours = ct.starts_with("application/json") || ct.starts_with("text/html");
    if ours {
        return resp;
    }
    let allow = resp.headers().get(header::ALLOW).cloned();
    let retry = resp.headers().get(header::RETRY_AFTER).cloned();
    let oauth = format_for(path) == Format::OAuth;
    let e = match status {
        StatusCode::PAYLOAD_TOO_LARGE => too_large(),
        StatusCode::METHOD_NOT_ALLOWED => AppError::MethodNotAllowed,
        StatusCode::NOT_FOUND => AppError::NotFound,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => AppError::UnsupportedMediaType("unsupported content type".into()),
        StatusCode::SERVICE_UNAVAILABLE => AppError::Overloaded { retry_after_seconds: 1 },
        StatusCode::REQUEST_TIMEOUT => AppError::SlowRequest,
        s if s.is_client_error() && oauth => {
            AppError::oauth(OAuthErrorCode::InvalidRequest, "the request could not be read")
        }
        s if s.is_client_error() => AppError::BadRequest(crate::error::Msg::key("refuse-unreadable")),
        _ => AppError::internal(format!("framework answered {status} on {path}")),
    };
    let mut out = error_response(path, e);
    if let Some(a) = allow {
        out.headers_mut().insert(header::ALLOW, a);
    }
    if let Some(r) = retry {
        out.headers_mut().insert(header::RETRY_AFTER, r);
    } else if status == StatusCode::SERVICE_UNAVAILABLE {
        out.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_escapes() {
        assert!(has_nul_escape(b"client_id=a%00b"));
        assert!(!has_nul_escape(b"client_id=a%0Ab"));
        assert!(json_has_nul(br#"{"username":"a\u0000b"}"#));
        assert!(!json_has_nul(br#"{"username":"a\\u0000b"}"#), "an escaped backslash, then text");
        assert!(!json_has_nul(br#"{"username":"a\u0001b"}"#));
    }

    #[test]
    fn formats() {
        assert_eq!(format_for("/oauth2/token"), Format::OAuth);
        assert_eq!(format_for("/oauth2/authorize"), Format::Page);
        assert_eq!(format_for("/api/v1/auth/login"), Format::Api);
        assert_eq!(format_for("/saml/post"), Format::Page);
        assert_eq!(format_for("/login"), Format::Page);
    }
}
