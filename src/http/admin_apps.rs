//! The admin console's applications (`/admin/apps`): the list, registering an OIDC client or
//! a SAML service provider (its metadata uploaded or pasted, or the fields), and one app's
//! page — its registration edited, a client secret rotated (shown once), its MFA policy, the
//! selector plugins assigned to it, and deleting it. Every change is a CSRF-protected form
//! handled by `crate::admin` (which audits it); deleting needs its confirmation box ticked.

use std::collections::HashMap;

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::admin_pages::{policies, policy_label};
use super::cookies;
use super::error::{PageResult, page_message, render, status_of};
use super::guards::{AdminPage, CsrfForm, CsrfRejection, form_expired};
use super::notice::{Done, Notice};
use crate::admin::apps::{self, OidcAppEdit, OidcAppSpec, SamlAppSpec};
use crate::admin::{Admin, plugins as admin_plugins, settings};
use crate::error::{AppError, AppResult, Msg};
use crate::mfa::policy::{AppPolicy, Factor, Policy};
use crate::state::AppState;
use crate::store::saml::{AttributeMapping, ServiceProvider};
use crate::store::{self, apps::App, apps::Protocol};
use crate::web::i18n;
use crate::web::{AdminAppNewPage, AdminAppPage, AdminAppsPage, AppListRow, AssignedPlugin, OidcForm, SamlForm, when};

/// `GET /admin/apps`.
pub async fn list(State(state): State<AppState>, AdminPage(_): AdminPage, done: Done) -> PageResult<Response> {
    let assignments = store::plugins::assignments(&state.db, None).await?;
    let plugins = store::plugins::list(&state.db).await?;
    let mut rows = Vec::new();
    for (app, policy) in store::settings::list_app_policies(&state.db).await? {
        let identifier = match app.protocol {
            Protocol::Oidc => store::apps::find_client_by_app(&state.db, &app.id).await?.map(|c| c.client_id),
            Protocol::Saml => store::saml::find_by_app(&state.db, &app.id).await?.map(|s| s.entity_id),
        };
        let assigned: Vec<String> = assignments
            .iter()
            .filter(|a| a.scope == app.id && a.mode != crate::mfa::selector::PluginMode::Disabled)
            .filter_map(|a| {
                let p = plugins.iter().find(|p| p.id == a.plugin_id)?;
                Some(format!("{} v{} ({})", p.name, p.version, a.mode.as_str()))
            })
            .collect();
        rows.push(AppListRow {
            id: app.id,
            name: app.name,
            protocol: protocol_label(app.protocol),
            identifier: identifier.unwrap_or_default(),
            policy: policy_label(policy.mfa_policy.map_or("inherit", Policy::as_str)),
            plugins: assigned.join(", "),
        });
    }
    let notice = done.localized();
    Ok(render(StatusCode::OK, &AdminAppsPage { rows, notice: notice.as_deref() }))
}

fn protocol_label(p: Protocol) -> &'static str {
    match p {
        Protocol::Oidc => "OpenID Connect",
        Protocol::Saml => "SAML 2.0",
    }
}

/// `GET /admin/apps/new`: the two registration forms.
pub async fn new(State(state): State<AppState>, jar: CookieJar, AdminPage(_): AdminPage) -> PageResult<Response> {
    let form = OidcForm { redirect_uris: String::new(), ..OidcForm::default() };
    Ok(new_page(&state, jar, form, SamlForm::default(), None, StatusCode::OK))
}

fn new_page(
    state: &AppState,
    jar: CookieJar,
    oidc: OidcForm,
    saml: SamlForm,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let (jar, csrf) = cookies::csrf_token(state, jar);
    let p = AdminAppNewPage { csrf: &csrf, error, oidc, saml, dev_mode: state.config.dev_mode };
    (jar, render(status, &p)).into_response()
}

/// The OIDC registration form, as submitted.
#[derive(Deserialize, Default)]
pub struct OidcFormBody {
    #[serde(default)]
    name: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    redirect_uris: String,
    #[serde(default)]
    post_logout_redirect_uris: String,
    #[serde(default)]
    scopes: String,
    /// `public` or `confidential`.
    #[serde(default)]
    client_type: String,
    /// The box for the client credentials grant: sent only when ticked.
    client_credentials: Option<String>,
}

impl OidcFormBody {
    fn view(&self) -> OidcForm {
        OidcForm {
            name: self.name.clone(),
            client_id: self.client_id.clone(),
            redirect_uris: self.redirect_uris.clone(),
            post_logout_redirect_uris: self.post_logout_redirect_uris.clone(),
            scopes: self.scopes.clone(),
            public: self.client_type == "public",
            client_credentials: self.client_credentials.is_some(),
        }
    }
}

/// One entry per line (or per space for scopes), blank ones dropped.
fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_owned).collect()
}

/// `POST /admin/apps/new/oidc`: registers the client and shows its secret once.
pub async fn create_oidc(
    State(state): State<AppState>,
    jar: CookieJar,
    AdminPage(admin): AdminPage,
    form: Result<CsrfForm<OidcFormBody>, CsrfRejection<OidcFormBody>>,
) -> PageResult<Response> {
    let f = match form {
        Ok(CsrfForm(f)) => f,
        Err(r) => {
            let f = r.expired_form()?;
            return Ok(new_page(
                &state,
                jar,
                f.view(),
                SamlForm::default(),
                Some(form_expired().as_str()),
                StatusCode::FORBIDDEN,
            ));
        }
    };
    let redirect_uris = lines(&f.redirect_uris);
    let post_logout = lines(&f.post_logout_redirect_uris);
    let scopes = words(&f.scopes);
    let client_id = Some(f.client_id.trim()).filter(|c| !c.is_empty());
    let spec = OidcAppSpec {
        name: f.name.trim(),
        client_id,
        redirect_uris: &redirect_uris,
        post_logout_redirect_uris: &post_logout,
        public: f.client_type == "public",
        extra_scopes: &scopes,
        client_credentials: f.client_credentials.is_some(),
    };
    match apps::add_oidc(&state, &admin, &spec).await {
        Ok(created) => {
            let app = store::apps::find(&state.db, &created.app_id).await?.ok_or(AppError::NotFound)?;
            let view = View {
                notice: Some(if created.client_secret.is_some() {
                    i18n::t("adm-note-app-confidential")
                } else {
                    i18n::t("adm-note-app-public")
                }),
                secret: created.client_secret.as_ref().map(|s| s.expose().to_owned()),
                ..View::default()
            };
            Ok(app_page(&state, jar, &app, view, StatusCode::CREATED).await?)
        }
        Err(e) if e.http_status() < 500 => {
            let (error, status) = (page_message(&e), status_of(&e));
            Ok(new_page(&state, jar, f.view(), SamlForm::default(), Some(&error), status))
        }
        Err(e) => Err(e.into()),
    }
}

/// The SAML form, read from its multipart body: the metadata may come as a file.
struct SamlBody {
    csrf: Option<String>,
    fields: HashMap<String, String>,
    metadata_file: Option<String>,
}

impl SamlBody {
    fn get(&self, k: &str) -> &str {
        self.fields.get(k).map_or("", |v| v.trim())
    }

    fn optional(&self, k: &str) -> Option<String> {
        Some(self.get(k)).filter(|v| !v.is_empty()).map(str::to_owned)
    }

    fn view(&self) -> SamlForm {
        SamlForm {
            name: self.get("name").to_owned(),
            entity_id: self.get("entity_id").to_owned(),
            metadata: self.get("metadata").to_owned(),
            acs_urls: self.fields.get("acs_urls").cloned().unwrap_or_default(),
            slo_url: self.get("slo_url").to_owned(),
            certificate: self.get("certificate").to_owned(),
            want_requests_signed: self.get("want_requests_signed").to_owned(),
            name_id_format: self.get("name_id_format").to_owned(),
            sign: self.get("sign").to_owned(),
            attributes: self.fields.get("attributes").cloned().unwrap_or_default(),
            allow_idp_initiated: self.get("allow_idp_initiated") == "on",
            default_relay_state: self.get("default_relay_state").to_owned(),
        }
    }

    /// What the form asks for. Fields left empty come from the metadata (or the defaults).
    fn spec(&self) -> AppResult<SamlAppSpec> {
        let metadata =
            self.metadata_file.clone().filter(|m| !m.trim().is_empty()).or_else(|| self.optional("metadata"));
        let attributes = match self.fields.get("attributes").map(|a| a.trim()).filter(|a| !a.is_empty()) {
            None => None,
            Some(text) => Some(
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(|l| {
                        let (name, source) = l
                            .split_once('=')
                            .ok_or_else(|| AppError::BadRequest(Msg::key("adm-err-attribute").with("line", l)))?;
                        Ok(AttributeMapping { name: name.trim().to_owned(), source: source.trim().to_owned() })
                    })
                    .collect::<AppResult<Vec<_>>>()?,
            ),
        };
        Ok(SamlAppSpec {
            name: self.get("name").to_owned(),
            metadata,
            entity_id: self.optional("entity_id"),
            acs_urls: lines(self.fields.get("acs_urls").map_or("", String::as_str)),
            slo_url: self.optional("slo_url"),
            certificate: self.optional("certificate"),
            want_requests_signed: match self.get("want_requests_signed") {
                "yes" => Some(true),
                "no" => Some(false),
                _ => None,
            },
            name_id_format: self.optional("name_id_format"),
            attributes,
            sign: self.optional("sign"),
            allow_idp_initiated: self.get("allow_idp_initiated") == "on",
            default_relay_state: self.optional("default_relay_state"),
        })
    }
}

const SAML_FIELDS: &[&str] = &[
    "name",
    "entity_id",
    "metadata",
    "acs_urls",
    "slo_url",
    "certificate",
    "want_requests_signed",
    "name_id_format",
    "sign",
    "attributes",
    "allow_idp_initiated",
    "default_relay_state",
];

async fn read_saml(mp: Result<Multipart, MultipartRejection>) -> AppResult<SamlBody> {
    let unreadable = |e: String| AppError::BadRequest(Msg::key("adm-err-form-unreadable").with("why", e));
    let mut mp = mp.map_err(|e| unreadable(e.body_text()))?;
    let mut body = SamlBody { csrf: None, fields: HashMap::new(), metadata_file: None };
    loop {
        let field = match mp.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(AppError::PayloadTooLarge("the form is too large".into()));
            }
            Err(e) => return Err(unreadable(e.body_text())),
        };
        let name = field.name().unwrap_or_default().to_owned();
        let bytes = match field.bytes().await {
            Ok(b) => b,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(AppError::PayloadTooLarge("the form is too large".into()));
            }
            Err(e) => return Err(unreadable(e.body_text())),
        };
        let text = String::from_utf8(bytes.to_vec())
            .map_err(|_| AppError::BadRequest(Msg::key("adm-err-not-utf8").with("field", &name)))?;
        // The same rule as every other form (see `edge`): text never carries NUL.
        if text.contains('\0') {
            return Err(AppError::BadRequest(Msg::key("refuse-unstorable")));
        }
        match name.as_str() {
            "csrf" => body.csrf = Some(text),
            "metadata_file" => body.metadata_file = Some(text),
            n if SAML_FIELDS.contains(&n) => {
                body.fields.insert(name, text);
            }
            _ => {}
        }
    }
    Ok(body)
}

/// `POST /admin/apps/new/saml` (multipart).
pub async fn create_saml(
    State(state): State<AppState>,
    jar: CookieJar,
    AdminPage(admin): AdminPage,
    mp: Result<Multipart, MultipartRejection>,
) -> PageResult<Response> {
    let body = match read_saml(mp).await {
        Ok(b) => b,
        Err(e) if e.http_status() < 500 => {
            let (error, status) = (page_message(&e), status_of(&e));
            return Ok(new_page(&state, jar, OidcForm::default(), SamlForm::default(), Some(&error), status));
        }
        Err(e) => return Err(e.into()),
    };
    if !cookies::verify_csrf(&state, &jar, body.csrf.as_deref()) {
        let status = StatusCode::FORBIDDEN;
        return Ok(new_page(&state, jar, OidcForm::default(), body.view(), Some(form_expired().as_str()), status));
    }
    let result = match body.spec() {
        Ok(spec) => apps::add_saml(&state, &admin, spec).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(sp) => Ok(Notice::AppCreated.redirect(&format!("/admin/apps/{}", sp.app_id)).into_response()),
        Err(e) if e.http_status() < 500 => {
            let (error, status) = (page_message(&e), status_of(&e));
            Ok(new_page(&state, jar, OidcForm::default(), body.view(), Some(&error), status))
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /admin/apps/{id}`.
pub async fn show(
    State(state): State<AppState>,
    jar: CookieJar,
    AdminPage(_): AdminPage,
    Path(id): Path<String>,
    done: Done,
) -> PageResult<Response> {
    let app = store::apps::find(&state.db, &id).await?.ok_or(AppError::NotFound)?;
    let view = View { notice: done.localized(), ..View::default() };
    Ok(app_page(&state, jar, &app, view, StatusCode::OK).await?)
}

/// What one rendering of an app's page adds.
#[derive(Default)]
struct View {
    notice: Option<String>,
    error: Option<String>,
    /// A client secret, shown once.
    secret: Option<String>,
    /// The forms as the admin submitted them (after an error), instead of what is stored.
    oidc: Option<OidcForm>,
    saml: Option<SamlForm>,
}

fn saml_form(sp: &ServiceProvider) -> SamlForm {
    SamlForm {
        name: sp.name.clone(),
        entity_id: sp.entity_id.clone(),
        metadata: String::new(),
        acs_urls: sp.acs.iter().map(|a| a.url.as_str()).collect::<Vec<_>>().join("\n"),
        slo_url: sp.slo_url.clone().unwrap_or_default(),
        certificate: sp.certificate.clone().unwrap_or_default(),
        want_requests_signed: if sp.want_requests_signed { "yes" } else { "no" }.into(),
        name_id_format: sp.name_id_format.clone(),
        sign: sp.sign.as_str().into(),
        attributes: sp.attributes.iter().map(|a| format!("{} = {}", a.name, a.source)).collect::<Vec<_>>().join("\n"),
        allow_idp_initiated: sp.allow_idp_initiated,
        default_relay_state: sp.default_relay_state.clone().unwrap_or_default(),
    }
}

async fn app_page(state: &AppState, jar: CookieJar, app: &App, view: View, status: StatusCode) -> AppResult<Response> {
    let issuer = state.config.issuer.trim_end_matches('/').to_owned();
    let policy = store::settings::find_app_policy(&state.db, &app.id).await?.unwrap_or_default();
    let (mut client_id, mut public, mut oidc, mut saml) = (String::new(), false, None, None);
    match app.protocol {
        Protocol::Oidc => {
            let c = store::apps::find_client_by_app(&state.db, &app.id).await?.ok_or(AppError::NotFound)?;
            oidc = Some(view.oidc.unwrap_or_else(|| OidcForm {
                name: app.name.clone(),
                client_id: c.client_id.clone(),
                redirect_uris: c.redirect_uris.join("\n"),
                post_logout_redirect_uris: c.post_logout_redirect_uris.join("\n"),
                scopes: crate::oidc::extra_scopes(&c).collect::<Vec<_>>().join(" "),
                public: c.is_public(),
                client_credentials: c.client_credentials(),
            }));
            public = c.is_public();
            client_id = c.client_id;
        }
        Protocol::Saml => {
            let sp = store::saml::find_by_app(&state.db, &app.id).await?.ok_or(AppError::NotFound)?;
            saml = Some(view.saml.unwrap_or_else(|| saml_form(&sp)));
        }
    }
    let plugins = store::plugins::list(&state.db).await?;
    let assigned = store::plugins::assignments(&state.db, None)
        .await?
        .into_iter()
        .filter(|a| a.scope == app.id)
        .filter_map(|a| {
            let p = plugins.iter().find(|p| p.id == a.plugin_id)?;
            Some(AssignedPlugin {
                plugin_id: p.id.clone(),
                label: format!("{} v{}", p.name, p.version),
                mode: a.mode.as_str(),
                on_error: a.on_error.as_str(),
            })
        })
        .collect();
    let allowed = policy.allowed_factors.clone().unwrap_or_default();
    let (jar, csrf) = cookies::csrf_token(state, jar);
    let p = AdminAppPage {
        csrf: &csrf,
        app,
        protocol: protocol_label(app.protocol),
        created: when(app.created_at),
        notice: view.notice.as_deref(),
        error: view.error.as_deref(),
        issuer: &issuer,
        client_id: &client_id,
        public,
        secret: view.secret.as_deref(),
        oidc,
        saml,
        policies: policies(),
        mfa_policy: policy.mfa_policy.map_or("inherit", Policy::as_str),
        reauth: policy.reauth_interval_minutes,
        trusted: policy.allow_trusted_devices,
        factors: [Factor::Totp, Factor::Passkey, Factor::Sms, Factor::Email]
            .into_iter()
            .map(|f| (f.as_str(), allowed.contains(&f)))
            .collect(),
        assigned,
        plugins: plugins.iter().map(|p| (p.id.clone(), format!("{} v{}", p.name, p.version))).collect(),
        dev_mode: state.config.dev_mode,
    };
    Ok((jar, render(status, &p)).into_response())
}

/// Every form of the app page but the SAML registration (which is multipart).
#[derive(Deserialize, Default)]
pub struct AppActionForm {
    #[serde(flatten)]
    oidc: OidcFormBody,
    #[serde(default)]
    mfa_policy: String,
    #[serde(default)]
    reauth_interval_minutes: String,
    allow_trusted_devices: Option<String>,
    factor_totp: Option<String>,
    factor_passkey: Option<String>,
    factor_sms: Option<String>,
    factor_email: Option<String>,
    #[serde(default)]
    plugin: String,
    #[serde(default)]
    mode: String,
    #[serde(default)]
    on_error: String,
    /// The box a destructive action needs ticked.
    confirm: Option<String>,
}

/// `POST /admin/apps/{id}/{action}`.
pub async fn act(
    State(state): State<AppState>,
    jar: CookieJar,
    AdminPage(admin): AdminPage,
    Path((id, action)): Path<(String, String)>,
    form: Result<CsrfForm<AppActionForm>, CsrfRejection<AppActionForm>>,
) -> PageResult<Response> {
    let app = store::apps::find(&state.db, &id).await?.ok_or(AppError::NotFound)?;
    let f = match form {
        Ok(CsrfForm(f)) => f,
        Err(r) => {
            r.expired_form()?;
            let view = View { error: Some(form_expired()), ..View::default() };
            return Ok(app_page(&state, jar, &app, view, StatusCode::FORBIDDEN).await?);
        }
    };
    match run(&state, &admin, &app, &action, &f).await {
        Ok(Outcome::Shown(view)) => Ok(app_page(&state, jar, &app, *view, StatusCode::OK).await?),
        Ok(Outcome::Saved) => Ok(Notice::AppSaved.redirect(&format!("/admin/apps/{}", app.id)).into_response()),
        Ok(Outcome::Deleted) => Ok(Notice::AppRemoved.redirect("/admin/apps").into_response()),
        Err(e) if e.http_status() < 500 => {
            let mut view = View { error: Some(page_message(&e)), ..View::default() };
            if action == "edit" {
                view.oidc = Some(OidcForm { client_id: String::new(), ..f.oidc.view() });
            }
            match store::apps::find(&state.db, &id).await? {
                Some(app) => Ok(app_page(&state, jar, &app, view, status_of(&e)).await?),
                None => Err(AppError::NotFound.into()),
            }
        }
        Err(e) => Err(e.into()),
    }
}

enum Outcome {
    Saved,
    Deleted,
    Shown(Box<View>),
}

async fn run(state: &AppState, admin: &Admin, app: &App, action: &str, f: &AppActionForm) -> AppResult<Outcome> {
    match action {
        "edit" => {
            if app.protocol != Protocol::Oidc {
                return Err(AppError::NotFound);
            }
            let redirect_uris = lines(&f.oidc.redirect_uris);
            let post_logout = lines(&f.oidc.post_logout_redirect_uris);
            let scopes = words(&f.oidc.scopes);
            let edit = OidcAppEdit {
                name: &f.oidc.name,
                redirect_uris: &redirect_uris,
                post_logout_redirect_uris: &post_logout,
                extra_scopes: &scopes,
                client_credentials: f.oidc.client_credentials.is_some(),
            };
            apps::update_oidc(state, admin, app, &edit).await?;
        }
        "rotate-secret" => {
            confirmed(f, "adm-err-confirm-rotate")?;
            let secret = apps::rotate_secret(state, admin, app).await?;
            return Ok(Outcome::Shown(Box::new(View {
                notice: Some(i18n::t("adm-note-new-secret")),
                secret: Some(secret.expose().to_owned()),
                ..View::default()
            })));
        }
        "policy" => {
            let mfa_policy = match f.mfa_policy.as_str() {
                "inherit" => None,
                v => Some(
                    Policy::parse(v)
                        .ok_or_else(|| AppError::BadRequest(Msg::key("adm-err-policy").with("value", v)))?,
                ),
            };
            let reauth = f
                .reauth_interval_minutes
                .trim()
                .parse()
                .map_err(|_| AppError::BadRequest(Msg::key("adm-err-reauth-minutes")))?;
            let mut factors = Vec::new();
            for (on, factor) in [
                (&f.factor_totp, Factor::Totp),
                (&f.factor_passkey, Factor::Passkey),
                (&f.factor_sms, Factor::Sms),
                (&f.factor_email, Factor::Email),
            ] {
                if on.is_some() {
                    factors.push(factor);
                }
            }
            let policy = AppPolicy {
                mfa_policy,
                reauth_interval_minutes: reauth,
                allow_trusted_devices: f.allow_trusted_devices.is_some(),
                allowed_factors: (!factors.is_empty()).then_some(factors),
            };
            settings::set_app_policy(state, admin, &app.id, &policy).await?;
        }
        "assign-plugin" => {
            let plugin = admin_plugins::resolve(state, admin, &f.plugin).await?;
            let on_error = Some(f.on_error.as_str()).filter(|s| !s.is_empty());
            admin_plugins::assign(state, admin, &plugin, &app.id, &f.mode, on_error).await?;
        }
        "unassign-plugin" => {
            let plugin = admin_plugins::resolve(state, admin, &f.plugin).await?;
            admin_plugins::unassign(state, admin, &plugin, &app.id).await?;
        }
        "delete" => {
            confirmed(f, "adm-err-confirm-delete-app")?;
            apps::remove(state, admin, app).await?;
            return Ok(Outcome::Deleted);
        }
        _ => return Err(AppError::NotFound),
    }
    Ok(Outcome::Saved)
}

/// The box of a destructive form is ticked, or `why` (a catalogue key) says what it would do.
fn confirmed(f: &AppActionForm, why: &'static str) -> AppResult<()> {
    match f.confirm.as_deref() {
        Some("yes") => Ok(()),
        _ => Err(AppError::BadRequest(Msg::key(why))),
    }
}

/// `POST /admin/apps/{id}/saml` (multipart): the service provider's registration replaced.
pub async fn edit_saml(
    State(state): State<AppState>,
    jar: CookieJar,
    AdminPage(admin): AdminPage,
    Path(id): Path<String>,
    mp: Result<Multipart, MultipartRejection>,
) -> PageResult<Response> {
    let app = store::apps::find(&state.db, &id).await?.ok_or(AppError::NotFound)?;
    if app.protocol != Protocol::Saml {
        return Err(AppError::NotFound.into());
    }
    let body = match read_saml(mp).await {
        Ok(b) => b,
        Err(e) if e.http_status() < 500 => {
            let view = View { error: Some(page_message(&e)), ..View::default() };
            return Ok(app_page(&state, jar, &app, view, status_of(&e)).await?);
        }
        Err(e) => return Err(e.into()),
    };
    if !cookies::verify_csrf(&state, &jar, body.csrf.as_deref()) {
        let view = View { error: Some(form_expired()), saml: Some(body.view()), ..View::default() };
        return Ok(app_page(&state, jar, &app, view, StatusCode::FORBIDDEN).await?);
    }
    let result = match body.spec() {
        Ok(spec) => apps::update_saml(&state, &admin, &app, spec).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Notice::AppSaved.redirect(&format!("/admin/apps/{}", app.id)).into_response()),
        Err(e) if e.http_status() < 500 => {
            let view = View { error: Some(page_message(&e)), saml: Some(body.view()), ..View::default() };
            Ok(app_page(&state, jar, &app, view, status_of(&e)).await?)
        }
        Err(e) => Err(e.into()),
    }
}
