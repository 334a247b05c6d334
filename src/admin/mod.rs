//! Administration has one home. Every change an administrator can make — users and their
//! groups, apps, settings and policies, plugins, the security events they set off — is a
//! function of this module taking an [`Admin`], and each writes its own audit record, so the
//! CLI, the JSON API and the pages cannot differ in what they check or what they leave behind.

pub mod apps;
pub mod declarative;
pub mod delivery;
pub mod mfa;
pub mod plugins;
pub mod security;
pub mod settings;
pub mod stats;
pub mod users;
pub mod webhooks;

use crate::audit::{Origin, Record};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::sessions::Session;
use crate::store::users::User;

/// The capability to administer. There are two ways to get one, and no other:
///
/// - [`Admin::verify`]: a signed-in administrator whose session meets the global MFA policy
///   right now (a trusted device counts as it would for a login); the HTTP fronts use it.
/// - [`Admin::operator`]: the `portcullis` command on the server's host, run by whoever
///   holds its configuration (the database and the master key), who has the keys to
///   everything anyway. Only the binary calls it; nothing under `http/` does (a test checks).
///
/// It names who acts and from where, for the audit records the admin functions write.
#[derive(Debug, Clone)]
pub struct Admin {
    user: Option<User>,
    origin: Origin,
}

impl Admin {
    /// Checks that `user`, signed in with `session`, may administer now.
    pub async fn verify(
        state: &AppState,
        session: &Session,
        user: User,
        device_token: Option<&str>,
        origin: Origin,
    ) -> AppResult<Admin> {
        use crate::mfa::assurance::Assurance;
        use crate::mfa::policy::Decision;
        if !user.is_admin {
            return Err(AppError::Forbidden(crate::error::Msg::key("refuse-admins-only")));
        }
        let ctx = crate::mfa::step::LoginCtx {
            user: &user,
            app_id: None,
            step_up: Assurance::Password,
            freshness_demanded: false,
            session: Some(session),
            device_token,
            request: None,
            origin: &origin,
            user_agent: None,
            plugin: crate::mfa::step::PluginRun::Skip,
        };
        match crate::mfa::step::decide(state, &ctx).await?.decision {
            Decision::Satisfied { .. } => Ok(Admin { user: Some(user), origin }),
            _ => Err(AppError::MfaRequired("verify a second factor first (POST /api/v1/auth/step-up)".into())),
        }
    }

    /// The operator at the host's command line (`portcullis user …`, `app …`, `serve`).
    pub fn operator() -> Admin {
        Admin { user: None, origin: Origin::cli() }
    }

    /// The administrator's account; `None` for the operator.
    pub fn user(&self) -> Option<&User> {
        self.user.as_ref()
    }

    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// The acting administrator's user id, as audit records and `created_by` columns hold it.
    pub fn actor_id(&self) -> Option<&str> {
        self.user.as_ref().map(|u| u.id.as_str())
    }

    /// Refuses an administrator's tool on their own account (`why`, a catalogue key): they
    /// would lock themselves out, or change their own sign-in methods without the fresh
    /// second factor their account page asks for. The operator at the command line may.
    pub fn not_on_self(&self, target_id: &str, why: &'static str) -> AppResult<()> {
        if self.actor_id() == Some(target_id) {
            return Err(AppError::Forbidden(crate::error::Msg::key(why)));
        }
        Ok(())
    }

    /// Records `event` as done by this administrator. `subject` is the user it concerns; an
    /// action that concerns no user is filed under the administrator's own id, so filtering
    /// the log by a user shows what was done to them and what they did as admin.
    async fn audit(
        &self,
        state: &AppState,
        event: &str,
        subject: Option<&str>,
        app_id: Option<&str>,
        detail: &serde_json::Value,
    ) -> AppResult<()> {
        let detail = detail.to_string();
        Record::new(event, subject.or(self.actor_id()), app_id, &self.origin, Some(&detail))
            .by(self.actor_id())
            .write(state)
            .await
    }
}

#[cfg(test)]
mod tests {
    /// The operator's capability is the binary's alone: no HTTP handler may mint one.
    #[test]
    fn http_never_takes_the_operators_capability() {
        let mut dirs = vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http")];
        let mut checked = 0;
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                assert!(!text.contains("Admin::operator"), "{} mints the operator's capability", path.display());
                checked += 1;
            }
        }
        assert!(checked > 5, "read the handlers");
    }
}
