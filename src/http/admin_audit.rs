//! The audit log in the admin console (`/admin/audit`): filtered by event, user, app and a
//! date range, paged backwards, and exported as CSV or JSON (`/admin/audit/export`), streamed
//! page by page from the database so a large log is never held in memory.

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::error::{PageResult, page_message, render};
use super::guards::AdminPage;
use crate::error::{AppError, AppResult, Msg};
use crate::state::AppState;
use crate::store::{self, audit::Entry};
use crate::web::{AdminAuditPage, AuditLogRow, when};

const PAGE_SIZE: i64 = 50;
const EXPORT_CHUNK: i64 = 500;

#[derive(serde::Deserialize, Default, Clone)]
pub struct AuditQuery {
    #[serde(default)]
    event: String,
    /// A username or a user id.
    #[serde(default)]
    user: String,
    #[serde(default)]
    app: String,
    /// `YYYY-MM-DD`, from the start of that day (UTC).
    #[serde(default)]
    from: String,
    /// `YYYY-MM-DD`, to the end of that day (UTC).
    #[serde(default)]
    to: String,
    before: Option<i64>,
    #[serde(default)]
    format: String,
}

/// The filter a query asks for, owned (an export outlives the request's borrow).
#[derive(Clone, Default)]
struct Wanted {
    event: Option<String>,
    user_id: Option<String>,
    app_id: Option<String>,
    since: Option<i64>,
    until: Option<i64>,
}

impl Wanted {
    fn filter(&self, before: Option<i64>) -> store::audit::Filter<'_> {
        store::audit::Filter {
            user_id: self.user_id.as_deref(),
            event: self.event.as_deref(),
            app_id: self.app_id.as_deref(),
            since: self.since,
            until: self.until,
            before,
            ..Default::default()
        }
    }
}

/// Midnight UTC of a `YYYY-MM-DD` date.
fn day_start(s: &str, what: &str) -> AppResult<i64> {
    let bad = || AppError::BadRequest(Msg::key("adm-err-date").with("field", what));
    let mut parts = s.split('-');
    let (Some(y), Some(m), Some(d), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let (y, m, d): (i32, u8, u8) =
        (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?, d.parse().map_err(|_| bad())?);
    let month = cookie::time::Month::try_from(m).map_err(|_| bad())?;
    let date = cookie::time::Date::from_calendar_date(y, month, d).map_err(|_| bad())?;
    Ok(date.midnight().assume_utc().unix_timestamp())
}

async fn wanted(state: &AppState, q: &AuditQuery) -> AppResult<Wanted> {
    let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty() && s.len() <= 200);
    let user_id = match text(&q.user) {
        Some(u) => Some(match store::users::find_by_id(&state.db, &u).await? {
            Some(found) => found.id,
            None => store::users::find_by_username(&state.db, &u)
                .await?
                .map(|found| found.id)
                .ok_or_else(|| AppError::BadRequest(Msg::key("adm-err-no-user").with("name", u)))?,
        }),
        None => None,
    };
    Ok(Wanted {
        event: text(&q.event),
        user_id,
        app_id: text(&q.app),
        since: text(&q.from).map(|d| day_start(&d, "from")).transpose()?,
        until: text(&q.to).map(|d| day_start(&d, "to").map(|t| t + 86_400)).transpose()?,
    })
}

/// `GET /admin/audit`.
pub async fn show(
    State(state): State<AppState>,
    AdminPage(_): AdminPage,
    q: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> PageResult<Response> {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let (rows, error, older) = match wanted(&state, &q).await {
        Ok(w) => {
            let entries = store::audit::list(&state.db, &w.filter(q.before), PAGE_SIZE).await?;
            let older = (entries.len() as i64 == PAGE_SIZE).then(|| entries.last().map(|e| e.id)).flatten();
            (entries.into_iter().map(row).collect(), None, older)
        }
        Err(e @ AppError::BadRequest(_)) => (Vec::new(), Some(page_message(&e)), None),
        Err(e) => return Err(e.into()),
    };
    let query = serde_urlencoded::to_string([
        ("event", q.event.as_str()),
        ("user", q.user.as_str()),
        ("app", q.app.as_str()),
        ("from", q.from.as_str()),
        ("to", q.to.as_str()),
    ])
    .unwrap_or_default();
    let page = AdminAuditPage {
        event: &q.event,
        user: &q.user,
        app: &q.app,
        from: &q.from,
        to: &q.to,
        rows,
        error: error.as_deref(),
        older,
        query: &query,
    };
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    Ok(render(status, &page))
}

fn row(e: Entry) -> AuditLogRow {
    AuditLogRow {
        at: when(e.at),
        event: e.event,
        user_id: e.user_id.unwrap_or_default(),
        actor_id: e.actor_id.unwrap_or_default(),
        app_id: e.app_id.unwrap_or_default(),
        ip: e.ip.unwrap_or_default(),
        detail: e.detail.unwrap_or_default(),
    }
}

/// One CSV cell: quoted when it must be, and never a formula to a spreadsheet.
fn cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_owned() };
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
}

fn csv_line(e: &Entry) -> String {
    let opt = |v: &Option<String>| cell(v.as_deref().unwrap_or_default());
    format!(
        "{},{},{},{},{},{},{},{}\n",
        e.id,
        e.at,
        cell(&e.event),
        opt(&e.user_id),
        opt(&e.actor_id),
        opt(&e.app_id),
        opt(&e.ip),
        opt(&e.detail)
    )
}

/// `GET /admin/audit/export?format=csv|json&…`: every matching entry, newest first, streamed.
pub async fn export(
    State(state): State<AppState>,
    AdminPage(_): AdminPage,
    q: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> PageResult<Response> {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let json = match q.format.as_str() {
        "json" => true,
        "csv" | "" => false,
        other => return Err(AppError::BadRequest(format!("format: `{other}` is not csv or json").into()).into()),
    };
    let w = wanted(&state, &q).await?;
    // Pages of entries by id, each read when the client is ready for it.
    struct Cursor {
        state: AppState,
        wanted: Wanted,
        before: Option<i64>,
        first: bool,
        /// An entry was written (the next one needs a comma before it).
        written: bool,
        done: bool,
        json: bool,
    }
    let start = Cursor { state, wanted: w, before: q.before, first: true, written: false, done: false, json };
    let stream = futures_util::stream::unfold(start, |mut c| async move {
        if c.done {
            return None;
        }
        let page = match store::audit::list(&c.state.db, &c.wanted.filter(c.before), EXPORT_CHUNK).await {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "audit export stopped");
                return Some((Err(std::io::Error::other("the audit export stopped")), c));
            }
        };
        let mut out = String::new();
        if c.first {
            out.push_str(if c.json { "[" } else { "id,at,event,user_id,actor_id,app_id,ip,detail\n" });
        }
        for e in &page {
            if c.json {
                if c.written {
                    out.push(',');
                }
                c.written = true;
                out.push_str(&serde_json::to_string(e).unwrap_or_default());
                out.push('\n');
            } else {
                out.push_str(&csv_line(e));
            }
        }
        c.first = false;
        c.before = page.last().map(|e| e.id);
        if (page.len() as i64) < EXPORT_CHUNK {
            c.done = true;
            if c.json {
                out.push(']');
            }
        }
        Some((Ok::<Bytes, std::io::Error>(Bytes::from(out)), c))
    });
    let (kind, name) = if json { ("application/json", "audit.json") } else { ("text/csv; charset=utf-8", "audit.csv") };
    Ok((
        [
            (header::CONTENT_TYPE, kind.to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    #[test]
    fn cells_are_quoted_and_never_formulas() {
        assert_eq!(super::cell("plain"), "plain");
        assert_eq!(super::cell("a,b"), "\"a,b\"");
        assert_eq!(super::cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(super::cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(super::cell("-1"), "'-1");
        assert!(super::day_start("2026-12-01", "from").is_ok());
        assert!(super::day_start("2026-13-01", "from").is_err());
        assert!(super::day_start("yesterday", "from").is_err());
    }
}
