//! Cookie attributes on an https issuer (`__Host-`, Secure, HttpOnly, SameSite, Path=/, no
//! Domain) and security headers on every response.

use crate::both_databases;
use crate::common::*;

both_databases!(
    session_cookie_attributes,
    security_headers,
    request_ids_and_error_references,
    dev_mode_sends_browsers_to_the_issuers_loopback_name
);

async fn session_cookie_attributes(b: Backend) {
    let Some(srv) = TestServer::start_with(b, Options { https_issuer: true, ..Options::default() }).await else {
        return;
    };
    srv.add_user("alice").await;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = http.get(srv.url("/login")).send().await.unwrap();
    let csrf_cookie = page.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(csrf_cookie.starts_with("__Host-portcullis_csrf="), "{csrf_cookie}");
    let csrf_value = csrf_cookie.split(';').next().unwrap().split_once('=').unwrap().1.to_owned();
    let resp = http
        .post(srv.url("/login"))
        .header("cookie", format!("__Host-portcullis_csrf={csrf_value}"))
        .form(&[("username", "alice"), ("password", PASSWORD), ("csrf", &csrf_value)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let session = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("__Host-portcullis_session="))
        .expect("session cookie");
    let attrs: Vec<String> = session.split(';').map(|a| a.trim().to_ascii_lowercase()).collect();
    for want in ["secure", "httponly", "samesite=lax", "path=/"] {
        assert!(attrs.iter().any(|a| a == want), "{want} missing in {session}");
    }
    assert!(!attrs.iter().any(|a| a.starts_with("domain")), "__Host- cookies carry no Domain");
    assert_eq!(resp.headers()["strict-transport-security"], "max-age=31536000; includeSubDomains");
}

async fn security_headers(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let big = "a=".to_owned() + &"x".repeat(70 * 1024);
    let form = "application/x-www-form-urlencoded";
    // Handlers' answers, and the answers the edge writes itself: the framework's 405 and 413
    // reformatted into a page or OAuth JSON, and a NUL refused before any handler runs.
    let cases = [
        (http.get(srv.url("/login")), 200, "text/html"),
        (http.get(srv.url("/.well-known/openid-configuration")), 200, "application/json"),
        (http.get(srv.url("/nope")), 404, "text/html"),
        (http.put(srv.url("/login")), 405, "text/html"),
        (http.put(srv.url("/oauth2/token")), 405, "application/json"),
        (http.post(srv.url("/login")).header("content-type", form).body(big.clone()), 413, "text/html"),
        (http.post(srv.url("/oauth2/token")).header("content-type", form).body(big), 413, "application/json"),
        (http.get(srv.url("/login?next=%00")), 400, "text/html"),
        (
            http.post(srv.url("/oauth2/token")).header("content-type", form).body("grant_type=a%00"),
            400,
            "application/json",
        ),
    ];
    for (req, status, format) in cases {
        let resp = req.send().await.unwrap();
        let path = resp.url().path().to_owned();
        assert_eq!(resp.status(), status, "{path}");
        let h = resp.headers();
        assert!(h["content-type"].to_str().unwrap().starts_with(format), "{path} {status}: {:?}", h["content-type"]);
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("default-src 'none'"));
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "no-referrer");
        assert_eq!(h["cross-origin-opener-policy"], "same-origin");
        // Each once, and HSTS only over HTTPS (this server is plain HTTP on loopback).
        for name in ["content-security-policy", "x-frame-options", "x-content-type-options", "referrer-policy"] {
            assert_eq!(h.get_all(name).iter().count(), 1, "{path}: {name}");
        }
        assert!(h.get("strict-transport-security").is_none(), "{path}");
    }
    let resp = reqwest::get(srv.url("/nope")).await.unwrap();
    assert_eq!(resp.status(), 404);
    assert!(resp.text().await.unwrap().contains("Not found"));
}

async fn request_ids_and_error_references(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let http = reqwest::Client::new();
    let id_of = |r: &reqwest::Response| r.headers()["x-request-id"].to_str().unwrap().to_owned();
    // Every answer carries its id; an error page shows it as the reference to quote.
    let ok = http.get(srv.url("/login")).send().await.unwrap();
    let first = id_of(&ok);
    assert!(first.len() >= 16 && first.bytes().all(|b| b.is_ascii_alphanumeric()), "{first}");
    assert!(!ok.text().await.unwrap().contains("Reference:"));
    let resp = http.get(srv.url("/no/such/page")).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    let id = id_of(&resp);
    assert_ne!(id, first, "one per request");
    let html = resp.text().await.unwrap();
    assert!(html.contains(&format!("Reference: <code>{id}</code>")) && html.contains("href=\"/\""), "{html}");
    // A proxy's plain id is kept; anything else is replaced, never echoed.
    let resp = http.get(srv.url("/no/such/page")).header("x-request-id", "edge-42-abc").send().await.unwrap();
    assert_eq!(id_of(&resp), "edge-42-abc");
    assert!(resp.text().await.unwrap().contains("Reference: <code>edge-42-abc</code>"));
    let resp =
        http.get(srv.url("/no/such/page")).header("x-request-id", "<script>alert(1)</script>").send().await.unwrap();
    assert!(!id_of(&resp).contains('<'));
    assert!(!resp.text().await.unwrap().contains("<script>"));
    // JSON errors carry the header, and their body stays the protocol's.
    let resp = http.post(srv.url("/oauth2/token")).form(&[("grant_type", "x")]).send().await.unwrap();
    assert!(resp.headers().contains_key("x-request-id"));
    let body: serde_json::Value = resp.json().await.unwrap();
    assert!(body["error"].is_string());
    srv.stop().await;
}

/// In dev mode a page opened on `127.0.0.1` when the issuer is `localhost` moves to the
/// issuer's name before any state is made (cookies are per host); programs, forms and other
/// hosts are answered where they are, and a production server never moves anyone.
async fn dev_mode_sends_browsers_to_the_issuers_loopback_name(b: Backend) {
    let Some(srv) =
        TestServer::start_with(b, Options { localhost_issuer: true, demo: true, ..Options::default() }).await
    else {
        return;
    };
    let http = browser();
    let resp = http.get(srv.url("/demo/start")).header("accept", "text/html,*/*;q=0.8").send().await.unwrap();
    assert_eq!(resp.status(), 307);
    assert_eq!(location(&resp), format!("{}/demo/start", srv.issuer()));
    assert!(resp.headers().get("set-cookie").is_none(), "no state on the wrong name");
    let resp = http.get(srv.url("/login?request=abc")).header("sec-fetch-mode", "navigate").send().await.unwrap();
    assert_eq!(location(&resp), format!("{}/login?request=abc", srv.issuer()));
    // Not a page navigation: answered here.
    assert_eq!(http.get(srv.url("/.well-known/openid-configuration")).send().await.unwrap().status(), 200);
    let resp = http.post(srv.url("/login")).header("accept", "text/html").form(&[("a", "b")]).send().await.unwrap();
    assert_ne!(resp.status(), 307);
    // Another port, or a name that is not this machine's: answered here.
    let resp =
        http.get(srv.url("/login")).header("accept", "text/html").header("host", "127.0.0.1:1").send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let resp =
        http.get(srv.url("/login")).header("accept", "text/html").header("host", "evil.example").send().await.unwrap();
    assert_eq!(resp.status(), 200);
    srv.stop().await;

    let Some(prod) = TestServer::start_with(b, Options { https_issuer: true, ..Options::default() }).await else {
        return;
    };
    let resp = http.get(prod.url("/login")).header("accept", "text/html").send().await.unwrap();
    assert_eq!(resp.status(), 200, "no redirect outside dev mode");
    prod.stop().await;
}
