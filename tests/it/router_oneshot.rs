//! The router driven in-process (`app(state).oneshot(request)`), no socket: cheap checks of
//! what every answer must carry — security headers, error bodies in the right format, CSRF
//! on forms, the admin gate, redirects — beside the real-server tests of the flows.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use portcullis::admin::{Admin, users};
use portcullis::state::AppState;
use tower::ServiceExt;

struct Harness {
    state: AppState,
    _dir: tempfile::TempDir,
}

async fn harness() -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let cfg = portcullis::config::Config::for_tests("http://127.0.0.1:8080", dir.path(), "");
    let db = portcullis::store::Db::connect(&cfg).await.unwrap();
    let state = AppState::with_db(cfg, db, Arc::new(portcullis::clock::SystemClock)).await.unwrap();
    Harness { state, _dir: dir }
}

impl Harness {
    async fn send(&self, req: Request<Body>) -> Response<Body> {
        portcullis::app(self.state.clone()).oneshot(req).await.unwrap()
    }

    async fn get(&self, path: &str) -> Response<Body> {
        self.send(Request::get(path).body(Body::empty()).unwrap()).await
    }
}

async fn text(resp: Response<Body>) -> String {
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

async fn json(resp: Response<Body>) -> serde_json::Value {
    assert!(resp.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("application/json"));
    serde_json::from_str(&text(resp).await).unwrap()
}

fn set_cookies(resp: &Response<Body>) -> Vec<String> {
    resp.headers().get_all(header::SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let h = harness().await;
    for path in ["/login", "/api/v1/admin/settings", "/no/such/page", "/oauth2/jwks", "/api/v1/nothing"] {
        let resp = h.get(path).await;
        let hd = resp.headers();
        assert!(hd[header::CONTENT_SECURITY_POLICY].to_str().unwrap().contains("frame-ancestors 'none'"), "{path}");
        assert_eq!(hd[header::X_FRAME_OPTIONS], "DENY", "{path}");
        assert_eq!(hd[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{path}");
        assert_eq!(hd[header::REFERRER_POLICY], "no-referrer", "{path}");
    }
}

#[tokio::test]
async fn errors_answer_in_the_format_of_who_asked() {
    let h = harness().await;
    // The API answers JSON, people get a page.
    let resp = h.get("/api/v1/nothing").await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(json(resp).await["error"], "not_found");
    let resp = h.get("/no/such/page").await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert!(resp.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    // An unknown client at the authorization endpoint is told to the person, never redirected.
    let resp =
        h.get("/oauth2/authorize?client_id=nobody&redirect_uri=https://evil.example/cb&response_type=code").await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.headers().get(header::LOCATION).is_none());
    assert!(text(resp).await.contains("<html"));
    // The token endpoint: OAuth error JSON, never a page.
    let req =
        Request::post("/oauth2/token").header(header::CONTENT_TYPE, "application/json").body(Body::from("{}")).unwrap();
    let resp = h.send(req).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(resp.headers()[header::CACHE_CONTROL], "no-store");
    assert_eq!(json(resp).await["error"], "invalid_request");
    // A JSON endpoint sent a form: refused as JSON.
    let req = Request::post("/api/v1/auth/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("username=a&password=b"))
        .unwrap();
    let resp = h.send(req).await;
    assert!(resp.status().is_client_error());
    assert_eq!(json(resp).await["error"], "invalid_request");
    // A body over the limit.
    let req = Request::post("/api/v1/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(vec![b' '; 200 * 1024]))
        .unwrap();
    assert_eq!(h.send(req).await.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn the_admin_tree_asks_for_a_session_before_anything_else() {
    let h = harness().await;
    for (method, path) in [
        ("GET", "/api/v1/admin/settings"),
        ("PATCH", "/api/v1/admin/settings"),
        ("POST", "/api/v1/admin/users"),
        ("DELETE", "/api/v1/admin/apps/x"),
        ("GET", "/api/v1/admin/plugins"),
    ] {
        // Even a malformed body: the gate answers first, and says nothing of the body.
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{not json"))
            .unwrap();
        let resp = h.send(req).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
        assert_eq!(resp.headers()[header::CACHE_CONTROL], "no-store", "{method} {path}");
        assert_eq!(json(resp).await["error"], "unauthorized", "{method} {path}");
    }
    // The pages send people to sign in.
    let resp = h.get("/admin/settings").await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[header::LOCATION], "/login");
}

#[tokio::test]
async fn cross_site_calls_are_refused_before_they_act() {
    let h = harness().await;
    let req = Request::post("/api/v1/auth/login")
        .header("origin", "https://evil.example")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"username":"a","password":"b"}"#))
        .unwrap();
    let resp = h.send(req).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(json(resp).await["error"], "forbidden");
    let req = Request::post("/api/v1/auth/login")
        .header("sec-fetch-site", "cross-site")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from(r#"{"username":"a","password":"b"}"#))
        .unwrap();
    assert_eq!(h.send(req).await.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn forms_need_their_csrf_token() {
    let h = harness().await;
    users::add(
        &h.state,
        &Admin::operator(),
        &users::UserSpec {
            username: "alice",
            password: "correct horse battery staple",
            email: None,
            email_verified: false,
            display_name: None,
            is_admin: false,
            groups: &[],
        },
    )
    .await
    .unwrap();
    let page = h.get("/login").await;
    let cookie = set_cookies(&page).into_iter().find(|c| c.starts_with("portcullis_csrf=")).unwrap();
    let pair = cookie.split(';').next().unwrap().to_owned();
    let token = pair.split_once('=').unwrap().1.to_owned();
    let post = |cookie: Option<&str>, token: &str| {
        let mut req = Request::post("/login").header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        req.body(Body::from(format!("username=alice&password=correct+horse+battery+staple&csrf={token}"))).unwrap()
    };
    for (cookie, token) in [(None, token.as_str()), (Some(pair.as_str()), "wrong"), (Some(pair.as_str()), "")] {
        let resp = h.send(post(cookie, token)).await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{cookie:?} {token}");
        assert!(!set_cookies(&resp).iter().any(|c| c.starts_with("portcullis_session=")), "no session");
        let html = text(resp).await;
        assert!(html.contains("The form expired"), "the login form again, saying why");
        assert!(html.contains("value=\"alice\""), "with the username kept");
    }
    let resp = h.send(post(Some(&pair), &token)).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(set_cookies(&resp).iter().any(|c| c.starts_with("portcullis_session=")));
    // Signing out is a form too.
    let req = Request::post("/logout")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, &pair)
        .body(Body::from("csrf=nope"))
        .unwrap();
    let resp = h.send(req).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(text(resp).await.contains("Not signed out"));
}
