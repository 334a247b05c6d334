//! Webhook subscribers in the admin console (`/admin/webhooks`): register one (its secret is
//! shown once), send a test event, turn it off or on, rotate its secret, remove it, and see its
//! latest deliveries. The same functions as `/api/v1/admin/webhooks`, as CSRF-protected forms.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::cookies;
use super::error::{PageResult, page_message, render, status_of};
use super::guards::{AdminPage, CsrfForm};
use super::notice::{Done, Notice};
use crate::admin::{Admin, webhooks};
use crate::error::{AppError, AppResult, Msg};
use crate::state::AppState;
use crate::web::i18n;
use crate::web::{AdminWebhooksPage, WebhookRow, when};

/// `GET /admin/webhooks`.
pub async fn show(
    State(state): State<AppState>,
    jar: CookieJar,
    AdminPage(admin): AdminPage,
    done: Done,
) -> PageResult<Response> {
    Ok(page(&state, jar, &admin, View { notice: done.localized(), ..View::default() }, StatusCode::OK).await?)
}

#[derive(Default)]
struct View {
    notice: Option<String>,
    error: Option<String>,
    /// A new secret, shown once: the subscriber's id and the secret.
    secret: Option<(String, String)>,
}

async fn page(state: &AppState, jar: CookieJar, admin: &Admin, view: View, status: StatusCode) -> AppResult<Response> {
    let mut rows = Vec::new();
    for w in webhooks::list(state, admin).await? {
        let deliveries = webhooks::deliveries(state, admin, &w.id, 5)
            .await?
            .into_iter()
            .map(|d| (when(d.created_at), d.status.as_str(), d.last_error.unwrap_or_default()))
            .collect();
        rows.push(WebhookRow {
            id: w.id,
            url: w.url,
            description: w.description,
            events: w.events.join(" "),
            enabled: w.enabled,
            rotating_until: w.previous_secret_expires_at.map(when),
            deliveries,
        });
    }
    let (jar, csrf) = cookies::csrf_token(state, jar);
    let p = AdminWebhooksPage {
        csrf: &csrf,
        notice: view.notice.as_deref(),
        error: view.error.as_deref(),
        secret: view.secret.as_ref().map(|(id, s)| (id.as_str(), s.as_str())),
        rows,
    };
    Ok((jar, render(status, &p)).into_response())
}

#[derive(Deserialize)]
pub struct WebhookForm {
    #[serde(default)]
    url: String,
    /// Event names or prefixes, separated by spaces or commas.
    #[serde(default)]
    events: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    confirm: Option<String>,
}

/// `POST /admin/webhooks`: registers a subscriber; the page shows its secret once.
pub async fn create(
    State(state): State<AppState>,
    jar: CookieJar,
    AdminPage(admin): AdminPage,
    CsrfForm(f): CsrfForm<WebhookForm>,
) -> PageResult<Response> {
    let events: Vec<String> =
        f.events.split([' ', ',', '\n']).map(str::trim).filter(|e| !e.is_empty()).map(str::to_owned).collect();
    let spec = webhooks::Spec {
        url: Some(f.url.clone()),
        events: Some(if events.is_empty() { vec!["*".to_owned()] } else { events }),
        description: Some(f.description.clone()),
        enabled: None,
    };
    let view = match webhooks::create(&state, &admin, &spec).await {
        Ok((w, secret)) => View {
            notice: Some(i18n::t("adm-note-webhook-registered")),
            secret: Some((w.id, secret.expose().to_owned())),
            ..View::default()
        },
        Err(e) if e.http_status() < 500 => {
            let status = status_of(&e);
            let view = View { error: Some(page_message(&e)), ..View::default() };
            return Ok(page(&state, jar, &admin, view, status).await?);
        }
        Err(e) => return Err(e.into()),
    };
    Ok(page(&state, jar, &admin, view, StatusCode::OK).await?)
}

/// `POST /admin/webhooks/{id}/{action}`: `test`, `enable`, `disable`, `rotate`, `delete`.
pub async fn act(
    State(state): State<AppState>,
    jar: CookieJar,
    AdminPage(admin): AdminPage,
    Path((id, action)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<WebhookForm>,
) -> PageResult<Response> {
    let confirmed = || match f.confirm.as_deref() {
        Some("yes") => Ok(()),
        _ => Err(AppError::BadRequest(Msg::key("adm-err-confirm"))),
    };
    let result: AppResult<Option<View>> = async {
        match action.as_str() {
            "test" => {
                webhooks::send_test(&state, &admin, &id).await?;
                Ok(Some(View { notice: Some(i18n::t("adm-note-webhook-test")), ..View::default() }))
            }
            "enable" | "disable" => {
                let spec = webhooks::Spec { enabled: Some(action == "enable"), ..webhooks::Spec::default() };
                webhooks::update(&state, &admin, &id, &spec).await?;
                Ok(None)
            }
            "rotate" => {
                confirmed()?;
                let (w, secret) = webhooks::rotate_secret(&state, &admin, &id).await?;
                Ok(Some(View {
                    notice: Some(i18n::t("adm-note-webhook-rotated")),
                    secret: Some((w.id, secret.expose().to_owned())),
                    ..View::default()
                }))
            }
            "delete" => {
                confirmed()?;
                webhooks::delete(&state, &admin, &id).await?;
                Ok(None)
            }
            _ => Err(AppError::NotFound),
        }
    }
    .await;
    match result {
        Ok(Some(view)) => Ok(page(&state, jar, &admin, view, StatusCode::OK).await?),
        Ok(None) => Ok(Notice::SettingsSaved.redirect("/admin/webhooks").into_response()),
        Err(e) if e.http_status() < 500 => {
            let status = status_of(&e);
            Ok(page(&state, jar, &admin, View { error: Some(page_message(&e)), ..View::default() }, status).await?)
        }
        Err(e) => Err(e.into()),
    }
}
