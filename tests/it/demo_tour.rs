//! The demo a newcomer clicks through (`serve --demo`): its app asks for the second step, so
//! the first sign-in sets one up and the claims page shows `amr`/`acr` for two steps, with a
//! line on what each claim means and buttons that ask for more; its password stays the same
//! across restarts of one data directory.

use crate::both_databases;
use crate::common::*;

both_databases!(the_demo_shows_the_mfa_step);

async fn the_demo_shows_the_mfa_step(b: Backend) {
    let Some(srv) = TestServer::start_with(b, Options { demo: true, ..manual_clock() }).await else { return };
    let password = srv.demo_password.clone().unwrap();
    assert_eq!(portcullis::demo::register(&srv.state).await.unwrap(), password, "the same password on a restart");
    let kept = std::fs::read_to_string(srv.state.config.data_dir.join("demo-password")).unwrap();
    assert_eq!(kept.trim(), password);

    let http = browser();
    let home = get_page(&http, &srv, "/demo").await;
    assert!(home.contains("asks for a second step"), "{home}");
    let resp = http.get(srv.url("/demo/start")).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    let authorize = location(&resp);
    assert_eq!(sign_in(&srv, &http, &authorize, "demo", &password).await, "/login/mfa");
    let html = get_page(&http, &srv, "/login/mfa").await;
    assert!(html.contains("Set up two-step verification"), "the demo app asks for a second step: {html}");
    let secret = totp_key_on_page(&html);
    let resp = post_mfa_form(&srv, &http, "/login/mfa/enroll/totp", &[("code", &srv.code(&secret))]).await;
    let html = resp.text().await.unwrap();
    // Backup codes come with the first factor, and the offer to trust this browser.
    assert!(html.contains("Save your backup codes") && html.contains("Trust this device"), "{html}");
    let form = [
        ("csrf", hidden_input(&html, "csrf").unwrap()),
        ("trust_token", hidden_input(&html, "trust_token").unwrap()),
        ("request", hidden_input(&html, "request").unwrap()),
        ("trust", "no".to_owned()),
    ];
    let resp = http.post(srv.url("/login/trust")).form(&form).send().await.unwrap();
    let callback = location(&resp);
    assert!(callback.contains("/demo/callback?code="), "{callback}");
    let claims = get_page(&http, &srv, &callback.replace(srv.issuer(), "")).await;
    assert!(claims.contains("<code>[pwd, otp, mfa]</code>"), "{claims}");
    assert!(claims.contains("urn:portcullis:acr:mfa") && claims.contains("how you proved it was you"), "{claims}");

    // The buttons that ask for more reach the provider with what they ask.
    for (ask, param) in [("phr", "acr_values=urn%3Aportcullis%3Aacr%3Aphr"), ("fresh", "max_age=0")] {
        let resp = http.get(srv.url(&format!("/demo/start?ask={ask}"))).send().await.unwrap();
        assert!(location(&resp).contains(param), "{ask}: {}", location(&resp));
    }
    srv.stop().await;
}
