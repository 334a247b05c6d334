//! Odd and hostile input gets a 4xx in the endpoint's own format, the same on SQLite and
//! PostgreSQL (which cannot store a NUL character): NUL in parameters, bodies and path ids,
//! over-long identifiers, bodies over the limit, requests the framework cannot read, and
//! methods a route does not have. OAuth endpoints answer RFC 6749 JSON, the JSON API its JSON
//! error, pages the HTML error page.

use crate::both_databases;
use crate::common::*;

both_databases!(answers_in_the_endpoints_format);

#[derive(Debug, Clone, Copy, PartialEq)]
enum Fmt {
    OAuth,
    Api,
    Html,
}

async fn check(resp: reqwest::Response, status: u16, fmt: Fmt, what: &str) {
    assert_eq!(resp.status().as_u16(), status, "{what}");
    let ct = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let body = resp.text().await.unwrap();
    match fmt {
        Fmt::Html => assert!(ct.starts_with("text/html"), "{what}: {ct} {body}"),
        Fmt::OAuth | Fmt::Api => {
            assert!(ct.starts_with("application/json"), "{what}: {ct} {body}");
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert!(v["error"].is_string() && v["error_description"].is_string(), "{what}: {v}");
            if fmt == Fmt::OAuth {
                assert_eq!(v["error"], "invalid_request", "{what}: {v}");
            }
        }
    }
}

async fn answers_in_the_endpoints_format(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    srv.add_user("alice").await;
    let app = srv.add_client(false).await;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let long = "x".repeat(4000);

    // NUL characters.
    let resp = http.get(srv.url("/oauth2/authorize?response_type=code&client_id=a%00b")).send().await.unwrap();
    check(resp, 400, Fmt::Html, "authorize, NUL client_id").await;
    let resp = http
        .post(srv.url("/oauth2/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=authorization_code&client_id=a%00b&code=x")
        .send()
        .await
        .unwrap();
    check(resp, 400, Fmt::OAuth, "token, NUL client_id").await;
    let resp = http
        .post(srv.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body(r#"{"username":"a\u0000b","password":"whatever it is"}"#)
        .send()
        .await
        .unwrap();
    check(resp, 400, Fmt::Api, "JSON login, NUL username").await;
    let resp = http.get(srv.url("/api/v1/mfa/passkeys/a%00b")).send().await.unwrap();
    check(resp, 400, Fmt::Api, "path id with NUL").await;
    let resp = http.get(srv.url("/saml/sso?SAMLRequest=a%00b")).send().await.unwrap();
    check(resp, 400, Fmt::Html, "SAML, NUL").await;
    let resp = http
        .post(srv.url("/login"))
        .form(&[("username", "a\u{0}b"), ("password", "x"), ("csrf", "y")])
        .send()
        .await
        .unwrap();
    check(resp, 400, Fmt::Html, "login form, NUL").await;

    // Over-long identifiers: refused or not found, never a database error.
    let resp = http
        .post(srv.url("/api/v1/auth/login"))
        .json(&serde_json::json!({"username": long, "password": "whatever it is"}))
        .send()
        .await
        .unwrap();
    check(resp, 401, Fmt::Api, "JSON login, 4,000-character username").await;
    let resp = http
        .post(srv.url("/oauth2/token"))
        .basic_auth(&long, Some("secret"))
        .form(&[("grant_type", "authorization_code"), ("code", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401, "token, 4,000-character client id");
    let resp =
        http.get(srv.url(&format!("/oauth2/authorize?response_type=code&client_id={long}"))).send().await.unwrap();
    check(resp, 400, Fmt::Html, "authorize, long client_id").await;

    // Bodies over the limit.
    let big = "a".repeat(70 * 1024);
    let resp = http
        .post(srv.url("/oauth2/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("grant_type=x&pad={big}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.headers().get("connection").map(|v| v.as_bytes()),
        Some(&b"close"[..]),
        "an unread body ends the connection, and the client is told"
    );
    check(resp, 413, Fmt::OAuth, "token, 70 KiB").await;
    let resp = http
        .post(srv.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body(format!(r#"{{"username":"{big}"}}"#))
        .send()
        .await
        .unwrap();
    check(resp, 413, Fmt::Api, "JSON, 70 KiB").await;
    let resp = http.post(srv.url("/login")).form(&[("username", big.as_str())]).send().await.unwrap();
    assert_eq!(resp.headers().get("connection").map(|v| v.as_bytes()), Some(&b"close"[..]));
    check(resp, 413, Fmt::Html, "login form, 70 KiB").await;

    // What the framework could not read, and methods a route does not have.
    let resp = http.get(srv.url("/saml/post")).send().await.unwrap();
    check(resp, 400, Fmt::Html, "hand-over without its token").await;
    let resp = http.get(srv.url("/api/v1/mfa/passkeys/%FF%FE")).send().await.unwrap();
    check(resp, 400, Fmt::Api, "invalid UTF-8 in a path id").await;
    let resp = http.delete(srv.url("/oauth2/token")).send().await.unwrap();
    assert!(resp.headers().contains_key("allow"), "405 names the allowed methods");
    check(resp, 405, Fmt::Api, "DELETE /oauth2/token").await;
    let resp = http.get(srv.url("/api/v1/auth/login")).send().await.unwrap();
    check(resp, 405, Fmt::Api, "GET on a POST-only API route").await;
    let resp = http.put(srv.url("/login")).send().await.unwrap();
    check(resp, 405, Fmt::Html, "PUT /login").await;
    let _ = app;
    srv.stop().await;
}
