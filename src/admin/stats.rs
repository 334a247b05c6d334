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
