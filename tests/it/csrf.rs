//! CSRF on the login and logout forms: a missing or wrong token is refused and no session
//! is created.

use crate::both_databases;
use crate::common::*;

both_databases!(login_form_needs_csrf);

async fn login_form_needs_csrf(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    srv.add_user("alice").await;
    let browser = browser();
    let page = browser.get(srv.url("/login")).send().await.unwrap().text().await.unwrap();
    let csrf = hidden_input(&page, "csrf").unwrap();
    for token in [None, Some("x".repeat(43)), Some(String::new())] {
        let mut form = vec![("username", "alice".to_owned()), ("password", PASSWORD.to_owned())];
        if let Some(t) = token.clone() {
            form.push(("csrf", t));
        }
        let resp = browser.post(srv.url("/login")).form(&form).send().await.unwrap();
        assert_eq!(resp.status(), 403, "token {token:?}");
        assert!(
            resp.headers()
                .get_all("set-cookie")
                .iter()
                .all(|c| !c.to_str().unwrap().starts_with("portcullis_session="))
        );
    }
    // A fresh client (attacker's page) without the cookie, with a token copied from elsewhere.
    let resp = reqwest::Client::new()
        .post(srv.url("/login"))
        .form(&[("username", "alice"), ("password", PASSWORD), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    // The same browser with its token succeeds.
    let resp = browser
        .post(srv.url("/login"))
        .form(&[("username", "alice"), ("password", PASSWORD), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    // Logout without the token does not end the session.
    let resp = browser.post(srv.url("/logout")).form(&[("csrf", "nope")]).send().await.unwrap();
    assert_eq!(resp.status(), 403);
    let home = browser.get(srv.url("/profile")).send().await.unwrap();
    assert_eq!(home.status(), 200, "still signed in");
    let resp = browser.post(srv.url("/logout")).form(&[("csrf", &csrf)]).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let home = browser.get(srv.url("/profile")).send().await.unwrap();
    assert_eq!(home.status(), 303, "signed out");
}
