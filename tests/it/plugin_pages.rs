//! The admin pages for selector plugins, driven as a browser without JavaScript would: upload
//! (multipart) with its errors, assignment in shadow and active mode, stats after real
//! sign-ins, test on a typed or recorded context, replay, delete refused while assigned, CSRF
//! on every form, and only for administrators.

use reqwest::multipart::{Form, Part};
use serde_json::json;

use crate::both_databases;
use crate::common::*;
use crate::plugin_fixtures as fx;
use portcullis::mfa::policy::Policy;

both_databases!(plugin_admin_pages);

const CAP: usize = 32 * 1024;

pub(crate) fn upload_form(csrf: Option<&str>, name: &str, bytes: Vec<u8>) -> Form {
    let mut form = Form::new();
    if let Some(c) = csrf {
        form = form.text("csrf", c.to_owned());
    }
    form.text("name", name.to_owned())
        .text("description", "Needs a code".to_owned())
        .text("fuel", "".to_owned())
        .text("memory_mib", "8".to_owned())
        .part("file", Part::bytes(bytes).file_name("p.wasm").mime_str("application/wasm").unwrap())
}

async fn upload(
    browser: &reqwest::Client,
    srv: &TestServer,
    csrf: Option<&str>,
    name: &str,
    bytes: Vec<u8>,
) -> reqwest::Response {
    browser.post(srv.url("/admin/plugins")).multipart(upload_form(csrf, name, bytes)).send().await.unwrap()
}

/// Unescapes what askama escapes, to read values back from a page.
fn unescape(html: &str) -> String {
    html.replace("&#34;", "\"").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&")
}

async fn plugin_admin_pages(b: Backend) {
    let opts = Options { tweak: Box::new(|c| c.plugins.max_upload_bytes = CAP), ..manual_clock() };
    let Some(srv) = TestServer::start_with(b, opts).await else { return };
    srv.add_admin("root").await;
    srv.add_user("alice").await;
    let app = srv.add_client(false).await;
    srv.set_settings(json!({"mfa_policy": "disabled"})).await;

    // Not an administrator: refused, on the page and on each form.
    let alice = browser();
    assert_eq!(submit_login(&srv, &alice, "/login", "alice", PASSWORD).await, "/");
    assert_eq!(alice.get(srv.url("/admin/plugins")).send().await.unwrap().status(), 403);
    let csrf = hidden_input(&get_page(&alice, &srv, "/profile").await, "csrf").unwrap();
    assert_eq!(upload(&alice, &srv, Some(&csrf), "x", fx::fixed(Policy::Otp)).await.status(), 403);
    assert!(portcullis::store::plugins::list(&srv.state.db).await.unwrap().is_empty());

    let admin = browser();
    assert_eq!(submit_login(&srv, &admin, "/login", "root", PASSWORD).await, "/");
    let html = get_page(&admin, &srv, "/admin/plugins").await;
    assert!(html.contains("No plugins yet"));
    assert!(html.contains("enctype=\"multipart/form-data\""));
    let csrf = hidden_input(&html, "csrf").unwrap();

    // Bad uploads come back on the page with the reason; nothing is stored.
    let resp = upload(&admin, &srv, None, "wants-otp", fx::fixed(Policy::Otp)).await;
    assert_eq!(resp.status(), 403, "no CSRF token");
    let bad = [
        (b"not wasm".to_vec(), "wants-otp", "not a WebAssembly component"),
        (fx::component_for("2.0.0", &fx::returns(Policy::Any)), "wants-otp", "portcullis:mfa@2.0.0"),
        (fx::fixed(Policy::Otp), "Bad Name", "lowercase letters"),
        (vec![0; CAP + 1], "wants-otp", "the cap is"),
        (vec![0; CAP + 128 * 1024], "wants-otp", "larger than the upload cap"),
    ];
    for (bytes, name, needle) in bad {
        let resp = upload(&admin, &srv, Some(&csrf), name, bytes).await;
        assert_eq!(resp.status(), 400, "{needle}");
        let html = unescape(&resp.text().await.unwrap());
        assert!(html.contains(needle) && html.contains("role=\"alert\""), "{needle}: {html}");
    }
    assert!(portcullis::store::plugins::list(&srv.state.db).await.unwrap().is_empty());

    // A good one: to its page, with its metadata.
    let resp = upload(&admin, &srv, Some(&csrf), "wants-otp", fx::fixed(Policy::Otp)).await;
    assert_eq!(resp.status(), 303);
    let here = location(&resp);
    assert!(here.starts_with("/admin/plugins/") && here.ends_with("?done=uploaded"), "{here}");
    let id = here.trim_start_matches("/admin/plugins/").trim_end_matches("?done=uploaded").to_owned();
    let here = format!("/admin/plugins/{id}");
    let html = get_page(&admin, &srv, &here).await;
    assert!(html.contains("wants-otp@1") && html.contains("Needs a code") && html.contains("8 MiB"));
    assert!(html.contains("Not assigned"));
    assert!(get_page(&admin, &srv, "/admin/plugins").await.contains("wants-otp@1"));

    // Shadow for everyone: alice's sign-ins are recorded, not enforced.
    let assign = |scope: String, mode: &'static str| {
        let (admin, srv, here) = (&admin, &srv, here.clone());
        async move {
            let fields = [("scope", scope.as_str()), ("mode", mode), ("on_error", "fail_secure")];
            post_form(admin, srv, &here, &format!("{here}/assign"), &fields).await
        }
    };
    let resp = assign("global".into(), "shadow").await;
    assert_eq!(location(&resp), format!("{here}?done=assigned"));
    let a = portcullis::store::plugins::assignments(&srv.state.db, Some(&id)).await.unwrap();
    assert_eq!((a.len(), a[0].mode.as_str(), a[0].scope.as_str()), (1, "shadow", "global"));
    let http = reqwest::Client::builder().cookie_store(true).build().unwrap();
    assert_eq!(api_login(&srv, &http, "alice").await.1["authenticated"], true, "shadow does not enforce");
    for _ in 0..100 {
        if !portcullis::store::plugins::decisions(&srv.state.db, Some(&id), 10).await.unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let html = get_page(&admin, &srv, &here).await;
    assert!(html.contains("<dt>Evaluations</dt><dd>1</dd>"), "stats after one sign-in: {html}");

    // Active for the app: its sign-ins need the code.
    let resp = assign(app.app_id.clone(), "active").await;
    assert_eq!(location(&resp), format!("{here}?done=assigned"));
    let html = get_page(&admin, &srv, &here).await;
    assert!(html.contains("Test RP") && html.contains(">active<") && html.contains(">shadow<"));
    let resp = assign("no-such-app".into(), "active").await;
    assert_eq!(resp.status(), 400);
    let resp = assign("global".into(), "sometimes").await;
    assert_eq!(resp.status(), 400);
    assert!(resp.text().await.unwrap().contains("role=\"alert\""));

    // Test on a typed context, on a bad one, and on the recorded sign-in.
    let context = serde_json::to_string(&fx::context()).unwrap();
    let resp = post_form(&admin, &srv, &here, &format!("{here}/test"), &[("context", &context)]).await;
    assert_eq!(resp.status(), 200);
    let html = unescape(&resp.text().await.unwrap());
    assert!(html.contains("id=\"test-result\"") && html.contains("\"policy\": \"otp\""), "{html}");
    assert!(html.contains(" fuel · "));
    let resp = post_form(&admin, &srv, &here, &format!("{here}/test"), &[("context", "{\"now\": 1}")]).await;
    assert_eq!(resp.status(), 400);
    let html = unescape(&resp.text().await.unwrap());
    assert!(html.contains("not a login context") && html.contains("{\"now\": 1}"), "the text stays in the form");
    let html = get_page(&admin, &srv, &here).await;
    let recorded = html.split("name=\"decision_id\"").nth(1).and_then(|s| s.split("value=\"").nth(1)).unwrap();
    let recorded = recorded.split('"').next().unwrap().to_owned();
    assert!(html.contains("alice → Portcullis"), "the picker names the sign-in");
    let resp = post_form(&admin, &srv, &here, &format!("{here}/test"), &[("decision_id", &recorded)]).await;
    assert_eq!(resp.status(), 200);
    let html = unescape(&resp.text().await.unwrap());
    assert!(html.contains("\"policy\": \"otp\"") && html.contains("\"username\": \"alice\""));
    let resp = post_form(&admin, &srv, &here, &format!("{here}/test"), &[("decision_id", "999999")]).await;
    assert_eq!(resp.status(), 404);

    // Replay: the recorded sign-in was enforced with `disabled`; this version asks `otp`.
    let resp = post_form(&admin, &srv, &here, &format!("{here}/replay"), &[("last", "10")]).await;
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(html.contains("1 sign-in replayed · 1 would differ · 0 failed"), "{html}");
    assert!(html.contains("<td>disabled</td><td>otp</td>"), "{html}");
    assert_eq!(post_form(&admin, &srv, &here, &format!("{here}/replay"), &[("last", "0")]).await.status(), 400);

    // Delete: refused while assigned, then allowed.
    let resp = post_form(&admin, &srv, &here, &format!("{here}/delete"), &[]).await;
    assert_eq!(resp.status(), 409);
    for scope in ["global", app.app_id.as_str()] {
        let resp = post_form(&admin, &srv, &here, &format!("{here}/unassign"), &[("scope", scope)]).await;
        assert_eq!(location(&resp), format!("{here}?done=unassigned"));
    }
    // A form without its token changes nothing.
    let resp = admin.post(srv.url(&format!("{here}/delete"))).form(&[("csrf", "forged")]).send().await.unwrap();
    assert_eq!(resp.status(), 403);
    let resp = post_form(&admin, &srv, &here, &format!("{here}/delete"), &[]).await;
    assert_eq!(location(&resp), "/admin/plugins?done=deleted");
    assert!(portcullis::store::plugins::list(&srv.state.db).await.unwrap().is_empty());
    assert_eq!(admin.get(srv.url(&here)).send().await.unwrap().status(), 404);

    // Every change is audited.
    for (event, n) in [("plugin.uploaded", 1), ("plugin.assigned", 2), ("plugin.unassigned", 2), ("plugin.deleted", 1)]
    {
        let rows = srv.audit(None, event, 10).await;
        assert_eq!(rows.len(), n, "{event}");
    }
    srv.stop().await;
}
