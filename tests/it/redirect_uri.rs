//! Exact redirect URI matching (RFC 9700 §4.1.3): no prefix, path, case, encoding or query
//! tricks. A bad redirect URI gets an error page, never a redirect.

use crate::both_databases;
use crate::common::*;

both_databases!(only_the_exact_registered_uri);

async fn only_the_exact_registered_uri(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let app = srv.add_client(false).await;
    let browser = browser();
    for bad in [
        "http://127.0.0.1:9/cb/",
        "http://127.0.0.1:9/cb/evil",
        "http://127.0.0.1:9/cbx",
        "http://127.0.0.1:9/CB",
        "HTTP://127.0.0.1:9/cb",
        "http://127.0.0.1:9/c%62",
        "http://127.0.0.1:9/cb?x=1",
        "http://127.0.0.1:9/cb#frag",
        "http://127.0.0.1:9/./cb",
        "http://127.0.0.1:09/cb",
        "http://127.0.0.1:9@evil.example/cb",
        "http://evil.example/cb",
        "",
    ] {
        let mut u = url::Url::parse(&srv.url("/oauth2/authorize")).unwrap();
        u.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &app.client_id)
            .append_pair("redirect_uri", bad)
            .append_pair("scope", "openid");
        let resp = browser.get(u.as_str()).send().await.unwrap();
        assert_eq!(resp.status(), 400, "{bad:?} must be refused");
        assert!(resp.headers().get("location").is_none(), "{bad:?}: no redirect to an unregistered URI");
        let ct = resp.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(ct.starts_with("text/html"), "people get a page");
    }
    // Unknown client: page, no redirect.
    let resp = browser.get(authorize_url(&srv, "no-such-client", &[])).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    assert!(resp.headers().get("location").is_none());
    // The registered one works.
    let resp = browser.get(authorize_url(&srv, &app.client_id, &[])).send().await.unwrap();
    shown_login_form(resp).await;
    // At the token endpoint too: the code is bound to the exact URI.
    srv.add_user("alice").await;
    let redirect = sign_in(&srv, &browser, &authorize_url(&srv, &app.client_id, &[]), "alice", PASSWORD).await;
    let code = query_param(&redirect, "code").unwrap();
    let resp = token_request(
        &srv,
        &app,
        &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", "http://127.0.0.1:9/cb/")],
    )
    .await;
    assert_eq!(json(resp).await["error"], "invalid_grant");
}
