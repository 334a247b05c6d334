//! `portcullis settings`: the break-glass for sign-in policy. It works on the database
//! directly, so it helps with the server stopped or running (every node reads settings at
//! each login), goes through the same checks as the admin API, and is audited as done from
//! the CLI.

use clap::Subcommand;
use portcullis::admin::{Admin, settings};
use portcullis::mfa::policy::{AppPolicy, Factor, Policy};
use portcullis::state::AppState;
use portcullis::store;
use serde_json::{Value, json};

use crate::{JsonOut, print};

#[derive(Subcommand)]
pub(crate) enum SettingsCmd {
    /// Print the global MFA settings, or one of them.
    Get {
        key: Option<String>,
        #[command(flatten)]
        out: JsonOut,
    },
    /// Change one global setting. VALUE is JSON (`true`, `30`, `["totp","passkey"]`) or a
    /// bare word; a list may also be given comma-separated (`totp,passkey`).
    Set {
        key: String,
        value: String,
        #[command(flatten)]
        out: JsonOut,
    },
    /// Set a group's minimum MFA policy (`none` clears it).
    Group {
        name: String,
        policy: String,
        #[command(flatten)]
        out: JsonOut,
    },
    /// Set an app's MFA policy (`inherit` follows the global one); the app by app id, client
    /// id or SAML entity ID.
    App {
        id: String,
        policy: String,
        /// Re-authentication interval in minutes for this app (0: the global one).
        #[arg(long)]
        reauth_interval_minutes: Option<i64>,
        /// Whether a trusted device may skip the second step for this app.
        #[arg(long)]
        allow_trusted_devices: Option<bool>,
        /// The factors this app accepts, comma-separated (e.g. `totp,passkey` keeps text and
        /// email codes out); `all` for every factor the global settings allow.
        #[arg(long)]
        allowed_factors: Option<String>,
        #[command(flatten)]
        out: JsonOut,
    },
}

/// A value as typed on the command line: JSON when it parses, else a string, and for the
/// list setting a comma-separated list.
fn parse_value(key: &str, raw: &str) -> Value {
    if let Ok(v) = serde_json::from_str::<Value>(raw) {
        return v;
    }
    if key == "mfa_allowed_factors" {
        return json!(raw.split(',').map(str::trim).filter(|s| !s.is_empty()).collect::<Vec<_>>());
    }
    Value::String(raw.to_owned())
}

fn policy_arg(v: &str, empty_word: &str) -> anyhow::Result<Option<Policy>> {
    if v == empty_word {
        return Ok(None);
    }
    Policy::parse(v)
        .map(Some)
        .ok_or_else(|| anyhow::anyhow!("`{v}` is not {empty_word}, disabled, optional, any, otp or passkey"))
}

pub(crate) async fn run(state: AppState, cmd: SettingsCmd) -> anyhow::Result<()> {
    let admin = Admin::operator();
    match cmd {
        SettingsCmd::Get { key, out } => {
            let all = json!(store::settings::load(&state.db).await?);
            let v = match &key {
                None => all,
                Some(k) => all.get(k).cloned().ok_or_else(|| anyhow::anyhow!("unknown setting `{k}`"))?,
            };
            print(out.json || key.is_none(), v.clone(), || match v {
                Value::String(s) => s,
                other => other.to_string(),
            });
        }
        SettingsCmd::Set { key, value, out } => {
            let patch = json!({ key.clone(): parse_value(&key, &value) });
            let s = settings::update(&state, &admin, &patch).await.map_err(crate::user_error)?;
            let v = json!(s)[&key].clone();
            print(out.json, json!({ "key": key, "value": v }), || format!("{key} = {v}"));
        }
        SettingsCmd::Group { name, policy, out } => {
            let p = policy_arg(&policy, "none")?;
            settings::set_group_policy(&state, &admin, &name, p).await.map_err(crate::user_error)?;
            print(out.json, json!({"group": name, "mfa_policy": p}), || {
                format!("group {name}: mfa_policy = {}", p.map_or("none", Policy::as_str))
            });
        }
        SettingsCmd::App { id, policy, reauth_interval_minutes, allow_trusted_devices, allowed_factors, out } => {
            let app = crate::find_app(&state, &id).await?;
            let mut p: AppPolicy = store::settings::find_app_policy(&state.db, &app.id).await?.unwrap_or_default();
            p.mfa_policy = policy_arg(&policy, "inherit")?;
            if let Some(m) = reauth_interval_minutes {
                p.reauth_interval_minutes = m;
            }
            if let Some(t) = allow_trusted_devices {
                p.allow_trusted_devices = t;
            }
            if let Some(list) = allowed_factors {
                p.allowed_factors = match list.trim() {
                    "all" | "" => None,
                    list => Some(
                        list.split(',')
                            .map(|n| {
                                Factor::parse(n.trim())
                                    .filter(|f| *f != Factor::BackupCode)
                                    .ok_or_else(|| anyhow::anyhow!("`{n}` is not totp, passkey, sms or email"))
                            })
                            .collect::<anyhow::Result<Vec<_>>>()?,
                    ),
                };
            }
            settings::set_app_policy(&state, &admin, &app.id, &p).await.map_err(crate::user_error)?;
            print(out.json, json!({"app_id": app.id, "name": app.name, "policy": p}), || {
                format!("app {}: mfa_policy = {}", app.name, p.mfa_policy.map_or("inherit", Policy::as_str))
            });
        }
    }
    Ok(())
}
