//! `GET /api/v1/admin/stats`: MFA adoption (the enrolment rate of the policies document, and
//! the mix of factors) and what the sign-ins did over the last 24 hours, 7 and 30 days, in all
//! and per application.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::Admin;
use crate::audit::event;
use crate::error::AppResult;
use crate::state::AppState;
use crate::store;
use crate::store::apps::Protocol;

/// MFA adoption and what the sign-ins did.
#[derive(Debug, Serialize, ToSchema)]
pub struct Stats {
    pub mfa: Adoption,
    /// By window: `24h`, `7d` and `30d`.
    #[schema(value_type = BTreeMap<String, Counts>)]
    pub logins: BTreeMap<&'static str, Counts>,
    pub generated_at: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Adoption {
    /// Active users.
    pub users: i64,
    /// With a factor of their own (backup codes alone do not count).
    pub enrolled_users: i64,
    /// `enrolled_users / users`, 0.0–1.0.
    pub enrollment_rate: f64,
    pub by_factor: FactorCounts,
    pub by_app: Vec<AppStats>,
}

/// Users with each kind of factor.
#[derive(Debug, Serialize, ToSchema)]
pub struct FactorCounts {
    pub totp: i64,
    pub passkey: i64,
    pub sms: i64,
    pub email: i64,
    pub backup_codes: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AppStats {
    pub app_id: String,
    pub name: String,
    pub protocol: Protocol,
    pub last_30d: Counts,
    /// Of the completed sign-ins, the share that passed a second factor in the sign-in.
    pub mfa_rate: f64,
}

/// Sign-in events in a window.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct Counts {
    pub sign_ins: i64,
    pub password_failures: i64,
    pub challenges: i64,
    pub mfa_passed: i64,
    pub failures: i64,
    pub denied: i64,
    pub lockouts: i64,
    pub recoveries: i64,
    pub backup_codes_used: i64,
    pub password_resets: i64,
}

/// The events counted.
const COUNTED: [&str; 10] = [
    event::LOGIN_SUCCESS,
    event::LOGIN_FAILURE,
    event::MFA_CHALLENGE,
    event::MFA_PASSED,
    event::MFA_FAILED,
    event::MFA_DENIED,
    event::LOCKOUT,
    event::RECOVERY_USED,
    event::BACKUP_CODE_USED,
    event::PASSWORD_RESET,
];

const WINDOWS: [(&str, i64); 3] = [("24h", 86_400), ("7d", 7 * 86_400), ("30d", 30 * 86_400)];

fn counts<'a>(rows: impl Iterator<Item = (&'a str, i64)>) -> Counts {
    let mut c = Counts::default();
    for (e, n) in rows {
        let slot = match e {
            event::LOGIN_SUCCESS => &mut c.sign_ins,
            event::LOGIN_FAILURE => &mut c.password_failures,
            event::MFA_CHALLENGE => &mut c.challenges,
            event::MFA_PASSED => &mut c.mfa_passed,
            event::MFA_FAILED => &mut c.failures,
            event::MFA_DENIED => &mut c.denied,
            event::LOCKOUT => &mut c.lockouts,
            event::RECOVERY_USED => &mut c.recoveries,
            event::BACKUP_CODE_USED => &mut c.backup_codes_used,
            event::PASSWORD_RESET => &mut c.password_resets,
            _ => continue,
        };
        *slot += n;
    }
    c
}

fn share(part: i64, whole: i64) -> f64 {
    if whole > 0 { ((part as f64 / whole as f64).min(1.0) * 1000.0).round() / 1000.0 } else { 0.0 }
}

pub async fn stats(state: &AppState, _admin: &Admin) -> AppResult<Stats> {
    let now = state.now();
    let e = store::stats::enrolment(&state.db).await?;
    let mut logins = BTreeMap::new();
    for (name, seconds) in WINDOWS {
        let rows = store::stats::event_counts(&state.db, &COUNTED, now - seconds).await?;
        logins.insert(name, counts(rows.iter().map(|(e, n)| (e.as_str(), *n))));
    }
    let per_app = store::stats::event_counts_by_app(&state.db, &COUNTED, now - 30 * 86_400).await?;
    let mut by_app = Vec::new();
    for (app, _) in store::settings::list_app_policies(&state.db).await? {
        let c = counts(per_app.iter().filter(|(a, ..)| *a == app.id).map(|(_, e, n)| (e.as_str(), *n)));
        let mfa_rate = share(c.mfa_passed, c.sign_ins);
        by_app.push(AppStats { app_id: app.id, name: app.name, protocol: app.protocol, last_30d: c, mfa_rate });
    }
    Ok(Stats {
        mfa: Adoption {
            users: e.users,
            enrolled_users: e.enrolled,
            enrollment_rate: share(e.enrolled, e.users),
            by_factor: FactorCounts {
                totp: e.totp,
                passkey: e.passkey,
                sms: e.sms,
                email: e.email,
                backup_codes: e.backup_codes,
            },
            by_app,
        },
        logins,
        generated_at: now,
    })
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
