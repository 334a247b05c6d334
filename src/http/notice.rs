//! The one-line confirmations pages show after a change (post/redirect/get): the redirect
//! carries a fixed key (`?done=totp-added`), the page looks its text up here. Nothing from the
//! URL is ever echoed, and an unknown key shows nothing.

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::response::Redirect;
use serde::Deserialize;

use crate::web::i18n;

/// A confirmation a page can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    Verified,
    TotpAdded,
    TotpRemoved,
    PasskeyAdded,
    PasskeyRenamed,
    PasskeyRemoved,
    DeviceRevoked,
    SmsAdded,
    EmailAdded,
    CodesRemoved,
    PrimarySet,
    SettingsSaved,
    GroupSaved,
    AppSaved,
    AppCreated,
    AppRemoved,
    PluginUploaded,
    PluginAssigned,
    PluginUnassigned,
    PluginDeleted,
    PasswordChanged,
    UserChanged,
    SessionEnded,
    SessionsEnded,
}

impl Notice {
    const ALL: [Notice; 24] = [
        Notice::Verified,
        Notice::TotpAdded,
        Notice::TotpRemoved,
        Notice::PasskeyAdded,
        Notice::PasskeyRenamed,
        Notice::PasskeyRemoved,
        Notice::DeviceRevoked,
        Notice::SmsAdded,
        Notice::EmailAdded,
        Notice::CodesRemoved,
        Notice::PrimarySet,
        Notice::SettingsSaved,
        Notice::GroupSaved,
        Notice::AppSaved,
        Notice::AppCreated,
        Notice::AppRemoved,
        Notice::PluginUploaded,
        Notice::PluginAssigned,
        Notice::PluginUnassigned,
        Notice::PluginDeleted,
        Notice::PasswordChanged,
        Notice::UserChanged,
        Notice::SessionEnded,
        Notice::SessionsEnded,
    ];

    /// Its key in the URL and its text.
    fn parts(self) -> (&'static str, &'static str) {
        match self {
            Notice::Verified => ("verified", "Thanks. You can change your sign-in methods for the next few minutes."),
            Notice::TotpAdded => ("totp-added", "Your authenticator app is set up."),
            Notice::TotpRemoved => ("totp-removed", "The authenticator app was removed."),
            Notice::PasskeyAdded => ("passkey-added", "Your passkey was added."),
            Notice::PasskeyRenamed => ("passkey-renamed", "The passkey was renamed."),
            Notice::PasskeyRemoved => ("passkey-removed", "The passkey was removed."),
            Notice::DeviceRevoked => ("device-revoked", "The device is no longer trusted."),
            Notice::SmsAdded => ("sms-added", "Text message codes are set up."),
            Notice::EmailAdded => ("email-added", "Email codes are set up, and your address is verified."),
            Notice::CodesRemoved => ("codes-removed", "That sign-in method was removed."),
            Notice::PrimarySet => ("primary-set", "The sign-in page will offer that method first."),
            Notice::SettingsSaved => ("settings", "Settings saved."),
            Notice::GroupSaved => ("group", "Group saved."),
            Notice::AppSaved => ("app", "Application saved."),
            Notice::AppCreated => {
                ("app-created", "Application registered. Give the service provider the IdP details below.")
            }
            Notice::AppRemoved => ("app-removed", "Application deleted, with its grants and plugin assignments."),
            Notice::PluginUploaded => {
                ("uploaded", "Plugin uploaded. Test it, then run it in shadow mode before you activate it.")
            }
            Notice::PluginAssigned => ("assigned", "Assignment saved. It applies to the next sign-in."),
            Notice::PluginUnassigned => ("unassigned", "Assignment removed."),
            Notice::PluginDeleted => ("deleted", "Plugin version deleted."),
            Notice::SessionEnded => ("session-ended", "That session is signed out."),
            Notice::SessionsEnded => ("sessions-ended", "Every other session is signed out; this one stays."),
            Notice::UserChanged => ("user", "Done. The change is in this user's audit log below."),
            Notice::PasswordChanged => {
                ("password-changed", "Your password was changed. Every other session of yours was signed out.")
            }
        }
    }

    fn from_key(key: &str) -> Option<Notice> {
        Notice::ALL.into_iter().find(|n| n.parts().0 == key)
    }

    pub fn text(self) -> &'static str {
        self.parts().1
    }

    /// Its text in the request's language (`notice-KEY` in the catalogues; the pages people
    /// use have one), else in English.
    pub fn localized(self) -> String {
        let key = format!("notice-{}", self.parts().0);
        if i18n::has(i18n::Lang::En, &key) { i18n::t(&key) } else { self.text().to_owned() }
    }

    /// The address of `page` showing this notice.
    pub fn url(self, page: &str) -> String {
        format!("{page}?done={}", self.parts().0)
    }

    /// Back to `page`, showing this notice.
    pub fn redirect(self, page: &str) -> Redirect {
        Redirect::to(&self.url(page))
    }
}

/// The notice a page was asked to show (`?done=`), if it is one; any other query is ignored.
#[derive(Debug, Clone, Copy, Default)]
pub struct Done(pub Option<Notice>);

impl Done {
    pub fn text(self) -> Option<&'static str> {
        self.0.map(Notice::text)
    }

    pub fn localized(self) -> Option<String> {
        self.0.map(Notice::localized)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Done {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        #[derive(Deserialize)]
        struct Q {
            done: Option<String>,
        }
        let q = Query::<Q>::from_request_parts(parts, state).await.ok();
        Ok(Done(q.and_then(|Query(q)| q.done).as_deref().and_then(Notice::from_key)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_notice_has_its_own_key_and_comes_back_from_its_url() {
        for n in Notice::ALL {
            let (key, text) = n.parts();
            assert!(!text.is_empty());
            assert_eq!(Notice::ALL.iter().filter(|m| m.parts().0 == key).count(), 1, "{key} is used twice");
            let url = n.url("/profile");
            let key = url.split_once("?done=").map(|(_, k)| k).unwrap();
            assert_eq!(Notice::from_key(key), Some(n));
        }
        assert_eq!(Notice::from_key("<script>"), None);
    }
}
