//! The MFA dashboard (`/admin/stats`): enrolment over time, the factor mix, what sign-ins did
//! per day, and what the selector plugins decided — SVG drawn here, each with its figures.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::error::{PageResult, render};
use super::guards::AdminPage;
use crate::admin::stats;
use crate::audit::event;
use crate::state::AppState;
use crate::web::AdminStatsPage;
use crate::web::charts::{self, HBAR_LEFT, HBAR_ROW, PLOT, WIDTH};
use crate::web::i18n;

/// Each daily chart: the event, its id, its title's catalogue key and colour class.
const DAILY: [(&str, &str, &str, &str); 5] = [
    (event::LOGIN_SUCCESS, "sign-ins", "chart-sign-ins", "series-ok"),
    (event::MFA_CHALLENGE, "challenges", "chart-challenges", "series-a"),
    (event::MFA_FAILED, "failures", "chart-failures", "series-warn"),
    (event::LOCKOUT, "lockouts", "chart-lockouts", "series-bad"),
    (event::RECOVERY_USED, "recoveries", "chart-recoveries", "series-a"),
];

/// `GET /admin/stats`.
pub async fn show(State(state): State<AppState>, AdminPage(admin): AdminPage) -> PageResult<Response> {
    let d = stats::dashboard(&state, &admin).await?;
    let e = d.enrolment;
    let rate = charts::percent_line("rate", &i18n::t("chart-rate"), &d.days, &d.enrolment_rate);
    let daily = DAILY
        .iter()
        .filter_map(|(ev, id, title, class)| {
            let values = &d.daily.iter().find(|(e, _)| e == ev)?.1;
            Some(charts::bars(id, &i18n::t(title), class, &d.days, values))
        })
        .collect();
    let share =
        |n: i64| if e.users > 0 { format!("{n} ({:.0} %)", n as f64 * 100.0 / e.users as f64) } else { n.to_string() };
    let factors = charts::hbars(
        "factors",
        &i18n::t("chart-factors"),
        &[
            (i18n::t1("adm-factor", "f", "passkey"), e.passkey, share(e.passkey)),
            (i18n::t1("adm-factor", "f", "totp"), e.totp, share(e.totp)),
            (i18n::t1("adm-factor", "f", "sms"), e.sms, share(e.sms)),
            (i18n::t1("adm-factor", "f", "email"), e.email, share(e.email)),
            (i18n::t("chart-backup-codes"), e.backup_codes, share(e.backup_codes)),
        ],
    );
    let plugin_items: Vec<(String, i64, String)> = d
        .plugins
        .iter()
        .map(|(label, mode, runs, failures)| {
            (format!("{label} ({mode})"), *runs, i18n::t2("chart-plugin-runs", "count", runs, "failed", failures))
        })
        .collect();
    let plugins = (!plugin_items.is_empty())
        .then(|| charts::hbars("plugins", &i18n::t1("chart-plugins", "days", stats::DAYS), &plugin_items));
    let page = AdminStatsPage {
        users: e.users,
        enrolled: e.enrolled,
        rate_percent: if e.users > 0 { (e.enrolled * 100 + e.users / 2) / e.users } else { 0 },
        days: stats::DAYS,
        rate,
        daily,
        factors,
        plugins,
        plugin_rows: d.plugins,
        width: WIDTH,
        plot: PLOT,
        hbar_left: HBAR_LEFT,
        hbar_row: HBAR_ROW,
    };
    Ok(render(StatusCode::OK, &page))
}
