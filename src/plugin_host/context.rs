//! The login context a selector sees and the decision it returns, independent of the WIT
//! version. Each versioned bindings module (`v1`, later `v2`) converts from and to these.
//! They are also the JSON of `portcullis plugin test --context`, of the test API and of the
//! decision log, so field names are stable.

use serde::{Deserialize, Serialize};

use crate::mfa::policy::{Factor, Policy};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PluginAttribute)]
pub struct Attribute {
    pub name: String,
    pub value: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PluginUser)]
pub struct User {
    pub id: String,
    pub username: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub email_verified: bool,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub attributes: Vec<Attribute>,
    #[serde(default)]
    pub is_admin: bool,
    #[serde(default)]
    pub created_at: i64,
    #[serde(default)]
    pub password_changed_at: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PluginFactor)]
pub struct EnrolledFactor {
    pub kind: Factor,
    pub name: String,
    #[serde(default)]
    pub created_at: i64,
    #[serde(default)]
    pub last_used_at: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PluginApp)]
pub struct App {
    pub id: String,
    pub name: String,
    pub protocol: String,
    /// `None`: the app inherits the global policy.
    #[serde(default)]
    pub policy: Option<Policy>,
    #[serde(default)]
    pub metadata: Vec<Attribute>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
#[schema(as = PluginRequest)]
pub struct Request {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub acr_values: Vec<String>,
    pub max_age: Option<i64>,
    pub prompt: Vec<String>,
    pub scopes: Vec<String>,
    pub force_authn: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PluginSession)]
pub struct Session {
    pub auth_time: i64,
    #[serde(default)]
    pub last_mfa_at: Option<i64>,
    #[serde(default)]
    pub amr: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
#[schema(as = PluginDevice)]
pub struct Device {
    pub trusted: bool,
    pub known: bool,
    pub first_seen_at: Option<i64>,
    pub last_seen_at: Option<i64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
#[schema(as = PluginSignals)]
pub struct Signals {
    pub new_device: bool,
    pub new_ip: bool,
    pub recent_failed_attempts: u32,
    pub password_changed_recently: bool,
}

/// Everything about one login (WIT `login-context`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginContext {
    pub now: i64,
    pub user: User,
    #[serde(default)]
    pub factors: Vec<EnrolledFactor>,
    #[serde(default)]
    pub app: Option<App>,
    #[serde(default)]
    pub request: Request,
    #[serde(default)]
    pub session: Option<Session>,
    #[serde(default)]
    pub device: Device,
    #[serde(default)]
    pub signals: Signals,
    pub static_policy: Policy,
}

impl LoginContext {
    /// Bytes of text the context carries (what grows with the data: groups, attributes,
    /// factor names), held against `MAX_CONTEXT_BYTES`.
    pub fn text_bytes(&self) -> usize {
        let attrs = |a: &[Attribute]| a.iter().map(|x| x.name.len() + x.value.len()).sum::<usize>();
        let strs = |v: &[String]| v.iter().map(String::len).sum::<usize>();
        self.user.id.len()
            + self.user.username.len()
            + self.user.email.as_ref().map_or(0, String::len)
            + strs(&self.user.groups)
            + attrs(&self.user.attributes)
            + self.factors.iter().map(|f| f.name.len() + 16).sum::<usize>()
            + self.app.as_ref().map_or(0, |a| a.id.len() + a.name.len() + a.protocol.len() + attrs(&a.metadata))
            + self.request.ip.as_ref().map_or(0, String::len)
            + self.request.user_agent.as_ref().map_or(0, String::len)
            + strs(&self.request.acr_values)
            + strs(&self.request.scopes)
            + strs(&self.request.prompt)
            + self.session.as_ref().map_or(0, |s| strs(&s.amr))
    }
}

/// A selector's verdict (WIT `decision`), as returned, before the floor rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PluginDecision)]
pub struct Decision {
    pub policy: Policy,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_factors: Option<Vec<Factor>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reauth_interval_minutes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_trusted_device: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deny: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Longest `deny` text: it is shown to the user.
pub const MAX_DENY_CHARS: usize = 200;

impl Decision {
    /// Checks what the types cannot: a decision that makes no sense is refused as a whole
    /// (and then handled by the plugin's `on_error`), never half-applied.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(d) = &self.deny {
            if d.trim().is_empty() {
                return Err("`deny` needs a reason".into());
            }
            if d.chars().count() > MAX_DENY_CHARS {
                return Err(format!("`deny` is longer than {MAX_DENY_CHARS} characters"));
            }
        }
        if let Some(fs) = &self.allowed_factors
            && fs.is_empty()
            && self.policy >= Policy::Any
            && self.deny.is_none()
        {
            return Err("`allowed-factors` is empty while the policy requires a factor".into());
        }
        if self.reauth_interval_minutes == Some(0) {
            return Err("`reauth-interval-minutes` must be at least 1 (leave it out for no interval)".into());
        }
        Ok(())
    }

    /// Bytes of free text in the decision, held against the output cap.
    pub fn text_bytes(&self) -> usize {
        self.deny.as_ref().map_or(0, String::len) + self.reason.as_ref().map_or(0, String::len)
    }
}
