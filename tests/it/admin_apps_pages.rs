//! The admin console's applications (`/admin/apps`), through the pages as an administrator's
//! browser uses them: an OIDC client registered (its secret shown once and working), edited,
//! its secret rotated (the old one refused from then on), its policy and plugins set, then
//! deleted; a SAML service provider registered from an uploaded metadata file and edited.
//! Each change needs its CSRF token (and, when destructive, its confirmation box) and leaves
//! an audit record; bad input comes back as the page with the reason; non-admins get nothing.

use reqwest::multipart::{Form, Part};
use samael::service_provider::ServiceProviderBuilder;
use samael::traits::ToXml;

use crate::both_databases;
use crate::common::*;

both_databases!(oidc_apps_through_the_pages, saml_apps_through_the_pages);

/// The secret a page shows once, if any.
fn shown_secret(html: &str) -> Option<String> {
    let marker = "<code class=\"secret\" id=\"client-secret\">";
    let start = html.find(marker)? + marker.len();
    Some(html[start..start + html[start..].find('<')?].to_owned())
}

/// How the token endpoint takes a client's credentials: 401 when they are wrong; with the
/// right ones the made-up code is what it refuses (400).
async fn token_status(srv: &TestServer, client_id: &str, secret: &str) -> u16 {
    reqwest::Client::new()
        .post(srv.url("/oauth2/token"))
        .basic_auth(client_id, Some(secret))
        .form(&[("grant_type", "authorization_code"), ("code", "made-up"), ("redirect_uri", "https://rp.example/cb")])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// A client credentials grant's answer: the error, or `issued`.
async fn client_credentials(srv: &TestServer, client_id: &str, secret: &str) -> String {
    let resp = reqwest::Client::new()
        .post(srv.url("/oauth2/token"))
        .basic_auth(client_id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let v = json(resp).await;
    v["error"].as_str().unwrap_or(if v["access_token"].is_string() { "issued" } else { "?" }).to_owned()
}

async fn oidc_apps_through_the_pages(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let admin = admin_browser(&srv).await;
    assert!(get_page(&admin, &srv, "/admin/apps").await.contains("No applications yet"));
    let new = "/admin/apps/new";
    let fields = [
        ("name", "Payroll"),
        ("redirect_uris", "https://rp.example/cb\r\n\r\nhttps://rp.example/other"),
        ("post_logout_redirect_uris", "https://rp.example/bye"),
        ("scopes", "payroll:read"),
        ("client_type", "confidential"),
        ("client_id", "payroll"),
    ];

    // No CSRF token: nothing registered.
    let resp = admin.post(srv.url("/admin/apps/new/oidc")).form(&fields).send().await.unwrap();
    assert_eq!(resp.status(), 403);
    assert!(portcullis::store::apps::find_client(&srv.state.db, "payroll").await.unwrap().is_none());
    // A bad redirect URI: the form comes back with the reason and what was typed.
    let mut bad = fields.to_vec();
    bad[1] = ("redirect_uris", "ftp://rp.example/cb");
    let resp = post_form(&admin, &srv, new, "/admin/apps/new/oidc", &bad).await;
    assert_eq!(resp.status(), 400);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("must be https") && html.contains("ftp://rp.example/cb") && html.contains("Payroll"),
        "{html}"
    );

    // Registered: the secret is shown once, and it is the client's.
    let resp = post_form(&admin, &srv, new, "/admin/apps/new/oidc", &fields).await;
    assert_eq!(resp.status(), 201);
    let html = resp.text().await.unwrap();
    let secret = shown_secret(&html).expect("the secret, once");
    assert!(html.contains("<code>payroll</code>") && html.contains("/.well-known/openid-configuration"), "{html}");
    let client = portcullis::store::apps::find_client(&srv.state.db, "payroll").await.unwrap().unwrap();
    assert_eq!(client.redirect_uris, ["https://rp.example/cb", "https://rp.example/other"]);
    assert!(client.allowed_scopes.contains(&"payroll:read".to_owned()));
    assert_eq!(token_status(&srv, "payroll", &secret).await, 400);
    assert_eq!(token_status(&srv, "payroll", "not-the-secret").await, 401);
    let page = format!("/admin/apps/{}", client.app_id);
    let act = |a: &str| format!("{page}/{a}");
    let html = get_page(&admin, &srv, &page).await;
    assert!(shown_secret(&html).is_none(), "not shown again");
    assert!(get_page(&admin, &srv, "/admin/apps").await.contains(&format!("href=\"{page}\"")));

    // Edited: name and URIs; an invalid edit changes nothing and shows what was typed.
    let resp = post_form(
        &admin,
        &srv,
        &page,
        &act("edit"),
        &[("name", "Payroll 2"), ("redirect_uris", "https://rp.example/cb#frag"), ("scopes", "")],
    )
    .await;
    assert_eq!(resp.status(), 400);
    assert!(resp.text().await.unwrap().contains("https://rp.example/cb#frag"));
    let resp = post_form(
        &admin,
        &srv,
        &page,
        &act("edit"),
        &[("name", "Payroll 2"), ("redirect_uris", "https://rp.example/new-cb"), ("scopes", "payroll:write")],
    )
    .await;
    assert_eq!(location(&resp), format!("{page}?done=app"));
    let client = portcullis::store::apps::find_client(&srv.state.db, "payroll").await.unwrap().unwrap();
    assert_eq!(
        (client.name.as_str(), client.redirect_uris.as_slice()),
        ("Payroll 2", &["https://rp.example/new-cb".to_owned()][..])
    );
    assert!(client.post_logout_redirect_uris.is_empty());
    assert!(client.allowed_scopes.contains(&"payroll:write".to_owned()));
    assert!(!client.allowed_scopes.contains(&"payroll:read".to_owned()));
    assert_eq!(srv.audit(None, "app.updated", 5).await.len(), 1);

    // The client credentials grant, by its box (unticked, the form sends nothing for it).
    assert_eq!(client_credentials(&srv, "payroll", &secret).await, "unauthorized_client");
    let edit = |cc: bool| {
        let mut f =
            vec![("name", "Payroll 2"), ("redirect_uris", "https://rp.example/new-cb"), ("scopes", "payroll:write")];
        if cc {
            f.push(("client_credentials", "yes"));
        }
        f
    };
    let resp = post_form(&admin, &srv, &page, &act("edit"), &edit(true)).await;
    assert_eq!(location(&resp), format!("{page}?done=app"));
    assert!(get_page(&admin, &srv, &page).await.contains(r#"name="client_credentials" value="yes" checked"#));
    assert_eq!(client_credentials(&srv, "payroll", &secret).await, "issued");
    let resp = post_form(&admin, &srv, &page, &act("edit"), &edit(false)).await;
    assert_eq!(location(&resp), format!("{page}?done=app"));
    assert!(!get_page(&admin, &srv, &page).await.contains(r#"value="yes" checked"#));
    assert_eq!(client_credentials(&srv, "payroll", &secret).await, "unauthorized_client");

    // Rotation: needs the box; then the new secret works and the old one no longer does.
    let resp = post_form(&admin, &srv, &page, &act("rotate-secret"), &[]).await;
    assert_eq!(resp.status(), 400);
    assert_eq!(token_status(&srv, "payroll", &secret).await, 400, "unchanged");
    let resp = post_form(&admin, &srv, &page, &act("rotate-secret"), &[("confirm", "yes")]).await;
    assert_eq!(resp.status(), 200);
    let rotated = shown_secret(&resp.text().await.unwrap()).expect("the new secret, once");
    assert_ne!(rotated, secret);
    assert_eq!(token_status(&srv, "payroll", &secret).await, 401);
    assert_eq!(token_status(&srv, "payroll", &rotated).await, 400);
    assert_eq!(srv.audit(None, "app.secret_rotated", 5).await.len(), 1);
    // Rotated from four tabs at once: each shown secret came from a rotation that happened, and
    // only the last of them works.
    let html = get_page(&admin, &srv, &page).await;
    let csrf = hidden_input(&html, "csrf").unwrap();
    let tries = (0..4).map(|_| {
        let (admin, url, csrf) = (admin.clone(), srv.url(&act("rotate-secret")), csrf.clone());
        async move {
            let resp = admin.post(url).form(&[("csrf", csrf.as_str()), ("confirm", "yes")]).send().await.unwrap();
            (resp.status().as_u16(), shown_secret(&resp.text().await.unwrap()))
        }
    });
    let results = futures_util::future::join_all(tries).await;
    let shown: Vec<&String> = results.iter().filter_map(|(_, s)| s.as_ref()).collect();
    assert!(!shown.is_empty(), "{results:?}");
    // A rotation that lost the race says so (409) and shows nothing.
    assert!(
        results.iter().all(|(s, secret)| (*s == 200) == secret.is_some() && (*s == 200 || *s == 409)),
        "{results:?}"
    );
    let mut working = Vec::new();
    for secret in &shown {
        if token_status(&srv, "payroll", secret).await == 400 {
            working.push((*secret).clone());
        }
    }
    assert_eq!(working.len(), 1, "exactly one shown secret works: {results:?}");
    assert_eq!(token_status(&srv, "payroll", &rotated).await, 401);
    let rotated = working.remove(0);
    // A public client has no secret to rotate.
    let spa = srv.add_client(true).await;
    let spa_page = format!("/admin/apps/{}", spa.app_id);
    assert!(!get_page(&admin, &srv, &spa_page).await.contains("Rotate client secret"));
    let resp = post_form(&admin, &srv, &spa_page, &format!("{spa_page}/rotate-secret"), &[("confirm", "yes")]).await;
    assert_eq!(resp.status(), 400);

    // The policy, with the methods it accepts.
    let resp = post_form(
        &admin,
        &srv,
        &page,
        &act("policy"),
        &[("mfa_policy", "passkey"), ("reauth_interval_minutes", "soon")],
    )
    .await;
    assert_eq!(resp.status(), 400);
    let resp = post_form(
        &admin,
        &srv,
        &page,
        &act("policy"),
        &[("mfa_policy", "otp"), ("reauth_interval_minutes", "15"), ("factor_totp", "on"), ("factor_passkey", "on")],
    )
    .await;
    assert!(resp.status().is_redirection());
    let p = portcullis::store::settings::find_app_policy(&srv.state.db, &client.app_id).await.unwrap().unwrap();
    assert_eq!(p.mfa_policy.map(|p| p.as_str()), Some("otp"));
    assert_eq!(p.reauth_interval_minutes, 15);
    assert!(!p.allow_trusted_devices);
    assert_eq!(p.allowed_factors.unwrap().len(), 2);

    // A plugin assigned to this app, in shadow mode, then removed.
    let plugin = portcullis::admin::plugins::upload(
        &srv.state,
        &portcullis::admin::Admin::operator(),
        &portcullis::admin::plugins::Upload {
            name: "risk",
            description: "",
            bytes: &crate::plugin_fixtures::fixed(portcullis::mfa::policy::Policy::Any),
            fuel: None,
            memory_mib: None,
            timeout_ms: None,
        },
    )
    .await
    .unwrap();
    let resp =
        post_form(&admin, &srv, &page, &act("assign-plugin"), &[("plugin", &plugin.id), ("mode", "sideways")]).await;
    assert_eq!(resp.status(), 400);
    let resp = post_form(
        &admin,
        &srv,
        &page,
        &act("assign-plugin"),
        &[("plugin", &plugin.id), ("mode", "shadow"), ("on_error", "fail_secure")],
    )
    .await;
    assert!(resp.status().is_redirection());
    let assigned = portcullis::store::plugins::assignments(&srv.state.db, Some(&plugin.id)).await.unwrap();
    assert_eq!((assigned[0].scope.as_str(), assigned[0].mode.as_str()), (client.app_id.as_str(), "shadow"));
    assert!(get_page(&admin, &srv, "/admin/apps").await.contains("risk v1 (shadow)"));
    post_form(&admin, &srv, &page, &act("unassign-plugin"), &[("plugin", &plugin.id)]).await;
    assert!(portcullis::store::plugins::assignments(&srv.state.db, Some(&plugin.id)).await.unwrap().is_empty());

    // Not for users; unknown apps and actions are 404.
    srv.add_user("mallory").await;
    let user = signed_in(&srv, "mallory").await;
    for path in ["/admin/apps", "/admin/apps/new", page.as_str()] {
        assert_eq!(user.get(srv.url(path)).send().await.unwrap().status(), 403, "{path}");
    }
    let csrf = hidden_input(&get_page(&user, &srv, "/profile").await, "csrf").unwrap();
    let resp = user.post(srv.url(&act("delete"))).form(&[("csrf", csrf.as_str()), ("confirm", "yes")]).send().await;
    assert_eq!(resp.unwrap().status(), 403);
    assert_eq!(post_form(&admin, &srv, &page, &act("launch"), &[]).await.status(), 404);
    assert_eq!(admin.get(srv.url("/admin/apps/no-such-app")).send().await.unwrap().status(), 404);

    // Deleted, after the box is ticked: the client no longer authenticates.
    let resp = post_form(&admin, &srv, &page, &act("delete"), &[]).await;
    assert_eq!(resp.status(), 400);
    assert!(portcullis::store::apps::find(&srv.state.db, &client.app_id).await.unwrap().is_some());
    let resp = post_form(&admin, &srv, &page, &act("delete"), &[("confirm", "yes")]).await;
    assert_eq!(location(&resp), "/admin/apps?done=app-removed");
    assert!(portcullis::store::apps::find(&srv.state.db, &client.app_id).await.unwrap().is_none());
    assert_eq!(token_status(&srv, "payroll", &rotated).await, 401);
    assert_eq!(srv.audit(None, "app.removed", 5).await.len(), 1);
    srv.stop().await;
}

fn saml_form(csrf: Option<&str>, fields: &[(&str, &str)], metadata_file: Option<&str>) -> Form {
    let mut form = Form::new();
    if let Some(c) = csrf {
        form = form.text("csrf", c.to_owned());
    }
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    if let Some(m) = metadata_file {
        let part = Part::bytes(m.as_bytes().to_vec()).file_name("sp.xml").mime_str("application/xml").unwrap();
        form = form.part("metadata_file", part);
    }
    form
}

async fn saml_apps_through_the_pages(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let admin = admin_browser(&srv).await;
    let csrf = hidden_input(&get_page(&admin, &srv, "/admin/apps/new").await, "csrf").unwrap();
    let cert = crate::saml_registration::sp_certificate();
    let metadata = ServiceProviderBuilder::default()
        .entity_id("https://wiki.example/saml".to_string())
        .acs_url("https://wiki.example/saml/acs".to_string())
        .slo_url("https://wiki.example/saml/slo".to_string())
        .certificate(samael::crypto::CertificateDer::from(cert.clone()))
        .build()
        .unwrap()
        .metadata()
        .unwrap()
        .to_string()
        .unwrap();
    let post = |form: Form, path: &str| admin.post(srv.url(path)).multipart(form).send();

    // Without the CSRF token, and with a NUL in a field: nothing registered.
    let resp = post(saml_form(None, &[("name", "Wiki")], Some(&metadata)), "/admin/apps/new/saml").await.unwrap();
    assert_eq!(resp.status(), 403);
    let resp = post(saml_form(Some(&csrf), &[("name", "Wi\0ki")], Some(&metadata)), "/admin/apps/new/saml").await;
    assert_eq!(resp.unwrap().status(), 400);
    // Bad input: the reason, and the fields as typed.
    let resp = post(
        saml_form(Some(&csrf), &[("name", "Wiki"), ("entity_id", "https://wiki.example/x"), ("sign", "nothing")], None),
        "/admin/apps/new/saml",
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 400);
    let html = resp.text().await.unwrap();
    assert!(html.contains("assertion consumer service") && html.contains("https://wiki.example/x"), "{html}");
    assert!(
        portcullis::store::saml::find_by_entity_id(&srv.state.db, "https://wiki.example/x").await.unwrap().is_none()
    );

    // From the uploaded metadata, with an attribute list of its own.
    let fields = [("name", "Wiki"), ("attributes", "mail = email\r\ntier = static:gold"), ("sign", "both")];
    let resp = post(saml_form(Some(&csrf), &fields, Some(&metadata)), "/admin/apps/new/saml").await.unwrap();
    assert_eq!(resp.status(), 303);
    let page = location(&resp).split('?').next().unwrap().to_owned();
    assert!(location(&resp).ends_with("?done=app-created"));
    let sp =
        portcullis::store::saml::find_by_entity_id(&srv.state.db, "https://wiki.example/saml").await.unwrap().unwrap();
    assert_eq!(page, format!("/admin/apps/{}", sp.app_id));
    assert_eq!(sp.acs[0].url, "https://wiki.example/saml/acs");
    assert_eq!(sp.slo_url.as_deref(), Some("https://wiki.example/saml/slo"));
    assert!(sp.certificate.is_some());
    assert_eq!(sp.attributes.len(), 2);
    assert_eq!(srv.audit(None, "app.created", 5).await.len(), 1);
    let html = get_page(&admin, &srv, &page).await;
    assert!(html.contains("https://wiki.example/saml/acs") && html.contains("/saml/metadata"), "{html}");

    // Edited through the fields: the entity ID and name change; the unchanged ACS keeps the
    // index and binding the metadata gave it.
    let edit = format!("{page}/saml");
    let mut fields: Vec<(&str, String)> = vec![
        ("name", "Team wiki".into()),
        ("entity_id", "https://wiki.example/saml2".into()),
        ("acs_urls", "https://wiki.example/saml/acs".into()),
        ("slo_url", "https://wiki.example/saml/slo".into()),
        ("certificate", sp.certificate.clone().unwrap()),
        ("want_requests_signed", "yes".into()),
        ("name_id_format", "persistent".into()),
        ("sign", "assertion".into()),
        ("attributes", "mail = email".into()),
    ];
    let resp = post(saml_form(None, &as_refs(&fields), None), &edit).await.unwrap();
    assert_eq!(resp.status(), 403);
    let resp = post(saml_form(Some(&csrf), &as_refs(&fields), None), &edit).await.unwrap();
    assert_eq!(location(&resp), format!("{page}?done=app"));
    let edited =
        portcullis::store::saml::find_by_entity_id(&srv.state.db, "https://wiki.example/saml2").await.unwrap().unwrap();
    assert_eq!(edited.name, "Team wiki");
    assert_eq!(edited.acs, sp.acs, "the metadata's ACS entry, as it was");
    assert_eq!(edited.slo_binding, sp.slo_binding);
    assert!(edited.want_requests_signed);
    assert_eq!(edited.sign.as_str(), "assertion");
    assert_eq!(srv.audit(None, "app.updated", 5).await.len(), 1);
    // An unreadable attribute line: refused, nothing changed.
    fields[8] = ("attributes", "mail: email".into());
    let resp = post(saml_form(Some(&csrf), &as_refs(&fields), None), &edit).await.unwrap();
    assert_eq!(resp.status(), 400);
    assert!(resp.text().await.unwrap().contains("SAML name = source"));
    let still = portcullis::store::saml::find_by_app(&srv.state.db, &sp.app_id).await.unwrap().unwrap();
    assert_eq!(still.attributes.len(), 1);
    srv.stop().await;
}

fn as_refs<'a>(fields: &'a [(&'a str, String)]) -> Vec<(&'a str, &'a str)> {
    fields.iter().map(|(k, v)| (*k, v.as_str())).collect()
}
