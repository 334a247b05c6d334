//! The global MFA settings and the policies of groups and apps. No change is accepted that
//! would leave a policy in force that no one could meet (DESIGN §5).

use serde_json::json;

use super::Admin;
use crate::audit::event;
use crate::error::{AppError, AppResult, Msg};
use crate::mfa::assurance::Assurance;
use crate::mfa::policy::{AppPolicy, Factor, Policy, Settings};
use crate::state::AppState;
use crate::store;

/// Applies a partial update (a JSON object of setting keys) to the global MFA settings.
/// Unknown keys and invalid values are refused, naming the key; nothing is half-written.
pub async fn update(state: &AppState, admin: &Admin, patch: &serde_json::Value) -> AppResult<Settings> {
    let serde_json::Value::Object(changes) = patch else {
        return Err(AppError::BadRequest("settings must be a JSON object".into()));
    };
    let current = store::settings::load(&state.db).await?;
    let mut merged = serde_json::to_value(&current).expect("settings serialise");
    for (k, v) in changes {
        if merged.get(k).is_none() {
            return Err(AppError::BadRequest(format!("unknown setting `{k}`").into()));
        }
        // Check each key on its own, so the error names it.
        let mut single = serde_json::to_value(&current).expect("settings serialise");
        single[k] = v.clone();
        if let Err(e) = serde_json::from_value::<Settings>(single) {
            return Err(AppError::BadRequest(format!("setting `{k}`: {e}").into()));
        }
        merged[k] = v.clone();
    }
    let new: Settings =
        serde_json::from_value(merged).map_err(|e| AppError::BadRequest(format!("invalid setting: {e}").into()))?;
    new.validate().map_err(|m| AppError::BadRequest(m.into()))?;
    check_policies(state, &new, None).await?;
    store::settings::save(&state.db, &new, state.now()).await?;
    let keys: Vec<&str> = changes.keys().map(String::as_str).collect();
    admin.audit(state, event::SETTINGS_CHANGED, None, None, &json!({"changed": keys})).await?;
    Ok(new)
}

/// A policy that is about to change: a group's or an app's (by id).
enum Proposed<'a> {
    Group(&'a str, Option<Policy>),
    App(&'a str, &'a AppPolicy),
}

/// Why `policy` (named `what`) could never be met under `s`, if it could not.
fn policy_problem(state: &AppState, what: &str, policy: Policy, s: &Settings) -> Option<Msg> {
    let usable = crate::mfa::manage::usable_factors(state, s);
    if crate::mfa::policy::satisfiable(policy, &usable) {
        return None;
    }
    let need = crate::mfa::policy::weakest_factor_for(policy);
    if s.mfa_allowed_factors.contains(&need) {
        return Some(
            Msg::key("adm-err-policy-passkey-host")
                .with("what", what)
                .with("policy", policy.as_str())
                .with("issuer", state.issuer()),
        );
    }
    let allowed: Vec<&str> = s.mfa_allowed_factors.iter().map(|f| f.as_str()).collect();
    Some(
        Msg::key("adm-err-policy-factor")
            .with("what", what)
            .with("policy", policy.as_str())
            .with("factor", need.as_str())
            .with("allowed", allowed.join(", ")),
    )
}

/// Refuses settings under which some policy in force could never be met (DESIGN §5: no
/// settings change can lock every administrator out): the global one, every group's minimum
/// and every app's own, with `proposed` standing in for the one about to change.
async fn check_policies(state: &AppState, s: &Settings, proposed: Option<&Proposed<'_>>) -> AppResult<()> {
    let mut groups: Vec<(String, Option<Policy>)> = store::settings::list_groups(&state.db)
        .await?
        .into_iter()
        .filter(|g| !matches!(proposed, Some(Proposed::Group(name, _)) if *name == g.name))
        .map(|g| {
            let p = g.mfa_policy.as_deref().and_then(Policy::parse);
            (g.name, p)
        })
        .collect();
    // The policy about to be set (for a group that may not exist yet) first.
    if let Some(Proposed::Group(name, p)) = proposed {
        groups.insert(0, ((*name).to_owned(), *p));
    }
    let apps: Vec<(String, AppPolicy)> = store::settings::list_app_policies(&state.db)
        .await?
        .into_iter()
        .map(|(app, stored)| match proposed {
            Some(Proposed::App(id, p)) if *id == app.id => (app.name, (*p).clone()),
            _ => (app.name, stored),
        })
        .collect();
    check_all(state, s, &groups, &apps)
}

/// The check of `check_policies` on a whole proposed state: the settings, every group's
/// minimum and every app's policy (by name).
pub(crate) fn check_all(
    state: &AppState,
    s: &Settings,
    groups: &[(String, Option<Policy>)],
    apps: &[(String, AppPolicy)],
) -> AppResult<()> {
    if let Some(m) = policy_problem(state, "mfa_policy", s.mfa_policy, s) {
        return Err(AppError::BadRequest(m));
    }
    if s.mfa_enforce_enrollment && crate::mfa::manage::usable_factors(state, s).is_empty() {
        return Err(AppError::BadRequest(Msg::key("adm-err-enforce-no-factor")));
    }
    for (name, policy) in groups {
        if let Some(p) = policy
            && let Some(m) = policy_problem(state, &format!("group `{name}`: mfa_policy"), *p, s)
        {
            return Err(AppError::BadRequest(m));
        }
    }
    for (name, app_policy) in apps {
        if let Some(p) = app_policy.mfa_policy
            && let Some(m) = policy_problem(state, &format!("app `{name}`: mfa_policy"), p, s)
        {
            return Err(AppError::BadRequest(m));
        }
        // The app's own factor list narrows what may meet its policy (or the global one).
        if let Some(list) = &app_policy.allowed_factors {
            let policy = app_policy.mfa_policy.unwrap_or(s.mfa_policy);
            let usable: Vec<_> =
                crate::mfa::manage::usable_factors(state, s).into_iter().filter(|f| list.contains(f)).collect();
            if !crate::mfa::policy::satisfiable(policy, &usable) {
                let names: Vec<&str> = list.iter().map(|f| f.as_str()).collect();
                return Err(AppError::BadRequest(
                    Msg::key("adm-err-app-factors")
                        .with("app", name)
                        .with("factors", names.join(", "))
                        .with("policy", policy.as_str()),
                ));
            }
        }
    }
    Ok(())
}

/// What an administrator should know after changing policies: where their own account
/// falls short of what the global policy (raised by their groups) now asks. They are not
/// locked out (enrolment is always offered for an allowed factor), but their next sign-in,
/// and their next admin action, will ask for the second step.
pub async fn own_account_warnings(state: &AppState, admin: &Admin) -> AppResult<Vec<Msg>> {
    let Some(user) = admin.user() else { return Ok(Vec::new()) };
    let s = store::settings::load(&state.db).await?;
    let groups = store::settings::user_groups(&state.db, &user.id).await?;
    let policy = groups.iter().filter_map(|(_, p)| *p).fold(s.mfa_policy, Policy::max);
    if policy <= Policy::Optional {
        return Ok(Vec::new());
    }
    let enrolled = store::factors::enrolled(&state.db, &user.id).await?;
    let has = enrolled
        .list()
        .into_iter()
        .any(|f| f != Factor::BackupCode && crate::mfa::policy::qualifies(f, policy, Assurance::Password));
    if has {
        return Ok(Vec::new());
    }
    let need = crate::mfa::policy::weakest_factor_for(policy);
    Ok(vec![Msg::key("adm-warn-own-account").with("factor", need.as_str()).with("policy", policy.as_str())])
}

/// Sets an app's MFA policy, re-auth interval and trusted-device setting.
pub async fn set_app_policy(state: &AppState, admin: &Admin, app_id: &str, policy: &AppPolicy) -> AppResult<()> {
    if !(0..=60 * 24 * 365).contains(&policy.reauth_interval_minutes) {
        return Err(AppError::BadRequest(Msg::key("adm-err-reauth-range")));
    }
    let settings = store::settings::load(&state.db).await?;
    check_policies(state, &settings, Some(&Proposed::App(app_id, policy))).await?;
    if !store::settings::update_app_policy(&state.db, app_id, policy).await? {
        return Err(AppError::NotFound);
    }
    admin.audit(state, event::SETTINGS_CHANGED, None, Some(app_id), &json!(policy)).await
}

/// Sets a group's minimum MFA policy (creating the group), `None` to clear it.
pub async fn set_group_policy(state: &AppState, admin: &Admin, group: &str, policy: Option<Policy>) -> AppResult<()> {
    let group = group.trim();
    super::users::validate_group(group)?;
    let settings = store::settings::load(&state.db).await?;
    check_policies(state, &settings, Some(&Proposed::Group(group, policy))).await?;
    store::settings::set_group_policy(&state.db, group, policy).await?;
    admin.audit(state, event::SETTINGS_CHANGED, None, None, &json!({"group": group, "mfa_policy": policy})).await
}
