//! `GET /api/v1/admin/stats`: MFA adoption (the enrolment rate of the policies document, and
//! the mix of factors) and what the sign-ins did over the last 24 hours, 7 and 30 days, in all
//! and per application.

use serde_json::{Map, Value, json};

use super::Admin;
use crate::audit::event;
use crate::error::AppResult;
use crate::state::AppState;
use crate::store;

/// The events counted, by the name the answer gives them.
const COUNTED: [(&str, &str); 10] = [
    ("sign_ins", event::LOGIN_SUCCESS),
    ("password_failures", event::LOGIN_FAILURE),
    ("challenges", event::MFA_CHALLENGE),
    ("mfa_passed", event::MFA_PASSED),
    ("failures", event::MFA_FAILED),
    ("denied", event::MFA_DENIED),
    ("lockouts", event::LOCKOUT),
    ("recoveries", event::RECOVERY_USED),
    ("backup_codes_used", event::BACKUP_CODE_USED),
    ("password_resets", event::PASSWORD_RESET),
];

const WINDOWS: [(&str, i64); 3] = [("24h", 86_400), ("7d", 7 * 86_400), ("30d", 30 * 86_400)];

fn counts(rows: &[(String, i64)]) -> Value {
    let mut out = Map::new();
    for (name, e) in COUNTED {
        let n = rows.iter().find(|(ev, _)| ev == e).map_or(0, |(_, n)| *n);
        out.insert(name.into(), json!(n));
    }
    Value::Object(out)
}

pub async fn stats(state: &AppState, _admin: &Admin) -> AppResult<Value> {
    let now = state.now();
    let e = store::stats::enrolment(&state.db).await?;
    let rate = if e.users > 0 { (e.enrolled as f64 / e.users as f64 * 1000.0).round() / 1000.0 } else { 0.0 };
    let events: Vec<&str> = COUNTED.iter().map(|(_, e)| *e).collect();
    let mut logins = Map::new();
    for (name, seconds) in WINDOWS {
        let rows = store::stats::event_counts(&state.db, &events, now - seconds).await?;
        logins.insert(name.into(), counts(&rows));
    }
    let per_app = store::stats::event_counts_by_app(&state.db, &events, now - 30 * 86_400).await?;
    let mut by_app = Vec::new();
    for (app, _) in store::settings::list_app_policies(&state.db).await? {
        let rows: Vec<(String, i64)> =
            per_app.iter().filter(|(a, ..)| *a == app.id).map(|(_, ev, n)| (ev.clone(), *n)).collect();
        let c = counts(&rows);
        let signed_in = c["sign_ins"].as_i64().unwrap_or(0);
        let with_mfa = c["mfa_passed"].as_i64().unwrap_or(0);
        by_app.push(json!({
            "app_id": app.id,
            "name": app.name,
            "protocol": app.protocol,
            "last_30d": c,
            // Of the completed sign-ins, the share that passed a second factor in the sign-in.
            "mfa_rate": if signed_in > 0 { ((with_mfa as f64 / signed_in as f64).min(1.0) * 1000.0).round() / 1000.0 } else { 0.0 },
        }));
    }
    Ok(json!({
        "mfa": {
            "users": e.users,
            "enrolled_users": e.enrolled,
            "enrollment_rate": rate,
            "by_factor": {
                "totp": e.totp,
                "passkey": e.passkey,
                "sms": e.sms,
                "email": e.email,
                "backup_codes": e.backup_codes,
            },
            "by_app": by_app,
        },
        "logins": logins,
        "generated_at": now,
    }))
}

/// What the MFA dashboard (`/admin/stats`) draws: the last `DAYS` days, oldest first.
#[derive(Debug)]
pub struct Dashboard {
    /// Unix day numbers.
    pub days: Vec<i64>,
    /// Share of active users with a factor at the end of each day (0.0–1.0).
    pub enrolment_rate: Vec<f64>,
    pub enrolment: store::stats::Enrolment,
    /// (event, values per day) for each counted event.
    pub daily: Vec<(&'static str, Vec<i64>)>,
    /// (plugin label, mode, runs, failures) over the window.
    pub plugins: Vec<(String, String, i64, i64)>,
}

pub const DAYS: i64 = 30;

/// The events the dashboard draws per day.
pub const DAILY: [&str; 5] =
    [event::LOGIN_SUCCESS, event::MFA_CHALLENGE, event::MFA_FAILED, event::LOCKOUT, event::RECOVERY_USED];

pub async fn dashboard(state: &AppState, _admin: &Admin) -> AppResult<Dashboard> {
    let today = state.now().div_euclid(86_400);
    let days: Vec<i64> = (today - DAYS + 1..=today).collect();
    let first = days[0];
    // Cumulative counts up to each day: everything before the window, then day by day.
    let cumulative = |rows: &[(i64, i64)]| -> Vec<i64> {
        let mut running: i64 = rows.iter().filter(|(d, _)| *d < first).map(|(_, n)| n).sum();
        days.iter()
            .map(|day| {
                running += rows.iter().filter(|(d, _)| d == day).map(|(_, n)| n).sum::<i64>();
                running
            })
            .collect()
    };
    let users = cumulative(&store::stats::users_by_day(&state.db).await?);
    let enrolled = cumulative(&store::stats::enrolled_by_day(&state.db).await?);
    let enrolment_rate =
        users.iter().zip(&enrolled).map(|(u, e)| if *u > 0 { (*e as f64 / *u as f64).min(1.0) } else { 0.0 }).collect();
    let counted = store::stats::daily_event_counts(&state.db, &DAILY, first * 86_400).await?;
    let daily = DAILY
        .iter()
        .map(|e| {
            let per_day = days
                .iter()
                .map(|day| counted.iter().filter(|(ev, d, _)| ev == e && d == day).map(|(.., n)| n).sum())
                .collect();
            (*e, per_day)
        })
        .collect();
    let plugins_known = store::plugins::list(&state.db).await?;
    let mut plugins: Vec<(String, String, i64, i64)> = store::stats::plugin_runs(&state.db, first * 86_400)
        .await?
        .into_iter()
        .map(|r| {
            let label = plugins_known
                .iter()
                .find(|p| p.id == r.plugin_id)
                .map_or_else(|| r.plugin_id.clone(), |p| format!("{} v{}", p.name, p.version));
            (label, r.mode, r.runs, r.failures)
        })
        .collect();
    plugins.sort();
    Ok(Dashboard { days, enrolment_rate, enrolment: store::stats::enrolment(&state.db).await?, daily, plugins })
}
