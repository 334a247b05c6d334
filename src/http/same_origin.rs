//! Cross-site protection for the JSON API (DESIGN §5). The API is authorised by the session
//! cookie, and a cookie rides along on requests another site makes the browser send: a
//! `fetch` with `mode: "no-cors"` and `Content-Type: text/plain`, or a plain HTML form, needs
//! no CORS preflight. So every state-changing call under `/api/v1/` must come from the
//! issuer's own origin (by `Origin`, or `Sec-Fetch-Site` when a browser sends no `Origin`),
//! and a body must be JSON, which a cross-site form cannot send. Clients that are not
//! browsers send neither header and are unaffected.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::AppError;
use crate::state::AppState;

/// The one API route whose body is not JSON: a plugin upload, as `application/wasm`, which is
/// not a CORS-safelisted type either (a cross-site page cannot send it without a preflight).
const WASM_ROUTE: &str = "/api/v1/admin/plugins";

pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path.starts_with("/api/v1/")
        && !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        && let Err(e) = require(&state, req.headers(), path)
    {
        return e.into_response();
    }
    next.run(req).await
}

/// The request comes from the issuer's own origin (or from no browser), and a body it sends
/// is JSON (a plugin upload: wasm).
pub fn require(state: &AppState, headers: &HeaderMap, path: &str) -> Result<(), AppError> {
    let text = |name: &str| headers.get(name).map(|v| v.to_str().unwrap_or("\u{0}"));
    match (text("origin"), text("sec-fetch-site")) {
        (Some(origin), _) => {
            if !origin.eq_ignore_ascii_case(&state.issuer_origin) {
                return Err(cross_site());
            }
        }
        (None, Some(site)) => {
            if !matches!(site, "same-origin" | "none") {
                return Err(cross_site());
            }
        }
        (None, None) => {}
    }
    let content_length = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).map(str::trim);
    let has_body = headers.contains_key(header::TRANSFER_ENCODING) || content_length.is_some_and(|n| n != "0");
    if has_body {
        let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        let wasm_ok = path == WASM_ROUTE && essence == "application/wasm";
        if essence != "application/json" && !wasm_ok {
            return Err(AppError::UnsupportedMediaType(
                "Content-Type must be application/json when a body is sent".into(),
            ));
        }
    }
    Ok(())
}

fn cross_site() -> AppError {
    AppError::Forbidden("cross_site_request: this call must come from the issuer's own origin".into())
}
