# Portcullis pages, English (the reference: every key is here).

## Shared
continue-to = to continue to
lang-label = Language
lang-submit = Change
show-password = Show password
hide-password = Hide password
reference = Reference: { $id } — quote it if you ask for help.
duration-under-minute = less than a minute
duration-minutes = { $count ->
    [one] 1 minute
   *[other] { $count } minutes
}
duration-hours = about { $count ->
    [one] 1 hour
   *[other] { $count } hours
}
back-to-sign-in = Back to sign in
sign-in-link = Sign in
verify = Verify
copy = Copy
copied = Copied
copy-failed = Copy failed
print = Print
download = Download

## Error pages
error-title-400 = That did not work
error-title-403 = Not allowed
error-title-404 = Not found
error-title-429 = Too many attempts
error-title-503 = Busy
error-title-other = Something went wrong
error-go-start = Go to the start page

## Sign-in
login-title = Sign in
login-username = Username
login-password = Password
login-submit = Sign in
login-forgot = Forgot password?

## Second step
mfa-title = Two-step verification
mfa-signing-in-as = Signing in as
mfa-not-you = Not you?
mfa-locked = Too many wrong attempts: the second step is paused for { $wait }. You can try again after that, or use “Lost access” below.
mfa-attempts-left = { $count ->
    [one] 1 more wrong attempt pauses the second step for a while.
   *[other] { $count } attempts left before the second step is paused for a while.
}
mfa-totp-label = Code from your authenticator app
mfa-passkey = Use a passkey
mfa-passkey-needs-js = Signing in with a passkey needs JavaScript.
mfa-backup-summary = Use a backup code
mfa-backup-label = Backup code
mfa-backup-submit = Use backup code
mfa-backup-low = { $count ->
    [one] You have 1 backup code left. Make a new set on your profile once you are in.
   *[other] You have { $count } backup codes left. Make a new set on your profile once you are in.
}
mfa-lost-heading = Lost access to your second step?
mfa-lost-email = We can email a one-time link to your account's verified address. It lets you set up a new way to sign in; your old ones stop working.
mfa-lost-email-submit = Email me a recovery link
mfa-lost-admin = Contact your administrator: they can check it is you and send you a recovery link.
mfa-enroll-next = After this step you will set up an additional sign-in method.
sent-sms-heading = Text message
sent-sms-send = Text me a code at { $to }
sent-sms-code = Code from the text message
sent-email-heading = Email
sent-email-send = Email me a code at { $to }
sent-email-code = Code from the email
sent-new-code = Send a new code at { $to }

## Setting up a second step
enroll-recover-title = Set up a new way to sign in
enroll-recover-keep = You are recovering your account. Set up one method below to finish: your old methods stay, and you will be signed out everywhere else.
enroll-recover-replace = You are recovering your account. Set up one method below to finish: your old methods will stop working, and you will be signed out everywhere else.
enroll-title = Set up two-step verification
enroll-required-by-app = { $app } requires a second step when you sign in.
enroll-required-by-org = Your organisation requires a second step when you sign in.
enroll-passkey-advice = A passkey is the quickest and safest: nothing to type, and it cannot be phished.
enroll-recommended = Recommended
passkey-heading = Passkey
enroll-passkey-help = Use your device's screen lock, a security key or a password manager.
enroll-passkey-name = Name for this passkey
passkey-default-name = Passkey
enroll-passkey-create = Create a passkey
enroll-passkey-needs-js = Creating a passkey needs JavaScript.
totp-heading = Authenticator app
totp-code-from-app = Code from the app
turn-on = Turn on
enroll-sms-heading = Text message codes
enroll-sms-warning = Codes by text message are easier to intercept than an app or a passkey; prefer those if you can.
enroll-sms-number = Your mobile number, with its country code
enroll-sms-send = Text me a code
enroll-email-heading = Email codes
enroll-email-send = Email a code to { $to }
enroll-later = Set up later
enroll-later-until = Set up later (until { $date })
totp-scan = Scan this QR code with an authenticator app
totp-or = or
totp-open-in-app = open it in the authenticator app on this device
totp-qr-alt = QR code for your authenticator app
totp-by-hand = Or enter this key by hand:
totp-copy-key = Copy key
totp-enter-code = Enter the 6-digit code the app shows.

## After the second step
trust-save-codes-title = Save your backup codes
trust-save-codes-text = If you lose your phone or security key, each of these codes signs you in once. Save them now somewhere safe (a password manager, or printed): they will not be shown again.
trust-title = Trust this device?
trust-text = On a trusted device you will not be asked for a second step for { $days } days. Only trust devices you alone use. You can revoke trust on your profile page.
trust-device-name = Device name
trust-yes = Trust this device
trust-no = Not now
trust-saved-continue = I saved them — continue

## Signing out
logout-title = Sign out
logout-question = Sign out?
logout-app-asks = { $app } asks to sign you out of { $brand }.
logout-confirm = Do you want to sign out of { $brand }?

## Errors shown on pages (by the error's code)
error-invalid_credentials = Incorrect username or password.
error-invalid_factor = That code or key was not accepted.
error-expired_token = This sign-in step expired or was already completed. Please start again.
error-invalid_link = This link is not valid: it expired, was already used, or a newer one was sent. Ask for a new one.
error-too_many_attempts = Too many failed attempts. Try again in { $wait }.
error-not_found = Not found.
error-unauthorized = Authentication required.
error-method_not_allowed = This address does not take that method.
error-invalid_request = The request did not arrive in time.
error-temporarily_unavailable = The service is busy. Please try again shortly.
error-server_error = Something went wrong on our side. Please try again.

## Your account
continue = Continue
on = On
off = Off
new-password = New password (at least 12 characters)
new-password-again = New password again
profile-title = Your account
profile-signed-in-as = Signed in as
profile-administration = Administration
profile-enroll-by = Set up a second step by { $date }: after that, signing in asks for it.
profile-verify-heading = Verify it's you
profile-verify-factor = To add or remove sign-in methods, confirm your second step again.
profile-verify-password = To add a sign-in method, enter your password again.
profile-totp-on = Codes from your authenticator app are a second step.
profile-offered-first = Offered first
profile-offer-first = Offer this first when I sign in
profile-totp-remove = Remove authenticator app
profile-totp-off = Use an app such as a password manager or authenticator to get sign-in codes.
profile-totp-setup = Set up an authenticator app
profile-passkeys = Passkeys
profile-no-passkeys = No passkeys yet. A passkey uses your device's screen lock or a security key and cannot be phished.
profile-added = Added { $date }
profile-last-used = last used { $date }
profile-never-used = never used
profile-rename = Rename
profile-rename-or-remove = Rename or remove
profile-new-name = New name
profile-remove-named = Remove { $name }
profile-passkey-name = Name for the new passkey
profile-passkey-add = Add a passkey
profile-passkey-needs-js = Adding a passkey needs JavaScript.
profile-codes-go-to = Codes go to { $to }.
profile-sms-weaker = Codes by text message are easier to intercept than an authenticator app or a passkey; some sign-ins ask for those instead.
profile-email-weaker = Codes by email are easier to intercept than an authenticator app or a passkey; some sign-ins ask for those instead.
profile-sms-remove = Remove text message codes
profile-email-remove = Remove email codes
profile-code-sent = We sent a code to { $to }. It expires in 5 minutes.
profile-code = Code
profile-confirm = Confirm
profile-sms-new-number = A new number, with its country code
profile-email-prove-again = Prove { $to } again
profile-no-email = Your account has no email address; an administrator can add one.
profile-verify-first-setup = Verify it's you first to set this up.
profile-backup-heading = Backup codes
profile-backup-save = Save these codes now. Each works once; they will not be shown again. Older codes no longer work.
profile-backup-left = { $left } of { $total } codes left.
profile-backup-made = (made { $date })
profile-backup-low = You are running out of backup codes. Make a new set.
profile-backup-none = Backup codes let you sign in if you lose your other methods.
profile-backup-new-set = Make a new set
profile-backup-make = Make backup codes
profile-current-password = Current password
profile-change-password = Change password
profile-password-effect = Changing it signs you out everywhere else and forgets your trusted devices.
profile-verify-first-password = Verify it's you first to change your password.
profile-devices = Trusted devices
profile-no-devices = No trusted devices. When you trust a device after the second step, it is listed here.
profile-this-browser = This browser
profile-device-times = Last seen { $seen } · expires { $expires }
profile-revoke = Revoke
profile-sessions = Where you're signed in
profile-this-session = This session
profile-session-times = signed in { $started } · last active { $seen }
profile-sign-out-others = Sign out everywhere else
profile-history = Recent sign-ins
profile-history-none = None yet.
profile-history-to = to { $app }
profile-history-advice = Something you don't recognise? Change your password and sign out everywhere else.
history-signed-in = Signed in
history-wrong-password = Wrong password
history-mfa-failed = Second step failed
history-locked = Locked after failed attempts

## Confirmations on the account page
notice-verified = Thanks. You can change your sign-in methods for the next few minutes.
notice-totp-added = Your authenticator app is set up.
notice-totp-removed = The authenticator app was removed.
notice-passkey-added = Your passkey was added.
notice-passkey-renamed = The passkey was renamed.
notice-passkey-removed = The passkey was removed.
notice-device-revoked = The device is no longer trusted.
notice-sms-added = Text message codes are set up.
notice-email-added = Email codes are set up, and your address is verified.
notice-codes-removed = That sign-in method was removed.
notice-primary-set = The sign-in page will offer that method first.
notice-password-changed = Your password was changed. Every other session of yours was signed out.
notice-session-ended = That session is signed out.
notice-sessions-ended = Every other session is signed out; this one stays.

## Links by email: recovery, password reset, invitation
link-recover-title = Recover your sign-in
link-reset-title = Reset your password
link-invite-title = Welcome
link-recover-intro = This link lets { $who } set up a new way to confirm it is them. Nothing else is possible until that is done.
link-your-password = Your password
link-old-methods = Your old sign-in methods
link-old-replace = Remove them (my phone or key is lost or stolen)
link-old-keep = Keep them (I only cannot reach them right now)
link-invite-intro = An account was made for you: { $who }. Choose your password to start using it.
link-first-password = Password (at least 12 characters)
link-first-password-again = Password again
link-reset-intro = Choose a new password for { $who }. You will be signed out everywhere, and the next sign-in still asks for your second step.
link-set-password = Set password
link-not-valid = This link is not valid: it expired, was already used, or a newer one was sent.
link-invite-ask-new = Ask the administrator who invited you for a new invitation.
link-ask-new = Ask for a new link
link-invite-open = Open the link from your invitation to choose your password. Lost it? Ask the administrator who invited you for a new one.
link-recover-ask = Enter your account's email address. If it is verified, we send a one-time link that lets you set up a new way to sign in.
link-reset-ask = Enter your account's email address. If it is verified, we send a one-time link to choose a new password.
link-email = Email address
link-send = Send link
link-recover-off = Recovery by email is turned off here. Contact your administrator: they can check it is you and help you back in.
link-reset-off = Password reset by email is turned off here. Contact your administrator: they can check it is you and help you back in.

## Message pages
back = Back
msg-check-email-title = Check your email
msg-check-email = If an account has this verified email address, a link is on its way. It works once and expires soon; if nothing arrives, check the address or ask your administrator.
msg-password-set = Your password is set. Sign in as { $username } with it; you may be asked to set up a second step.
msg-password-changed-title = Password changed
msg-password-changed = Your password was changed and you were signed out everywhere. Sign in with the new password; your second step is still asked for.
msg-recovery-sent = We sent a recovery link to { $to }. Open it on this device to set up a new way to sign in; it works once and expires in an hour.
msg-no-verified-email-title = No verified email address
msg-no-verified-email = Your account has no verified email address to send a recovery link to. Contact your administrator: they can check it is you and send you a recovery link.
msg-no-link-title = No link sent
msg-step-expired-title = Sign-in step expired
msg-step-expired = This sign-in step expired or was already completed. Go back to the application and start again.
msg-form-expired-title = Form expired
msg-form-expired-signin = The form expired. Go back to the application and sign in again.
msg-request-expired-title = Sign-in link expired
msg-request-expired = This sign-in request has expired or was already used. Go back to the application and start again.
msg-access-denied = Access denied
msg-not-signed-out = Not signed out
msg-form-expired = The form expired. Please try again.
msg-signed-out-title = Signed out
msg-signed-out = You are signed out of { $brand }.
msg-sign-in-again = Sign in again
msg-cannot-sign-in = Cannot sign you in
msg-cannot-sign-out = Cannot sign you out
msg-nothing-here = There is nothing at this address.
msg-form-expired-login = The form expired. Please sign in again.
mfa-code-texted = We texted a code to { $to }. It expires in { $minutes } minutes.
mfa-code-emailed = We emailed a code to { $to }. It expires in { $minutes } minutes.

## Emails and text messages
mail-code-title = Your verification code
mail-code-subject = Your { $host } verification code: { $code }
mail-code-intro = Your verification code for { $host } is:
mail-code-setup = Enter it where you are setting up sign-in codes, to prove this address is yours.
mail-code-login = Enter it to finish signing in.
mail-code-expiry = It expires in { $minutes } minutes and works once.
mail-code-warning = If you did not ask for it, someone may know your password: change it, and do not share this code.
sms-code = { $code } is your { $host } verification code. It expires in { $minutes } minutes. Do not share it.
mail-recover-subject = Recover your { $host } sign-in
mail-reset-subject = Reset your { $host } password
mail-recover-asked = Someone asked to recover the second sign-in step of your { $host } account.
mail-reset-asked = Someone asked to reset the password of your { $host } account.
mail-issued-by = An administrator ({ $by }) issued this link.
mail-recover-open = Open this link to set up a new way to confirm it is you (you will need your password):
mail-reset-open = Open this link to choose a new password:
mail-recover-button = Set up a new way to sign in
mail-reset-button = Choose a new password
mail-copy-address = Or copy this address into your browser:
mail-link-expiry = The link works once and expires in { $minutes } minutes.
mail-link-ignore = If you did not ask for this, ignore this message: nothing changes until the link is used. If it keeps happening, tell your administrator.
mail-invite-subject = Your { $host } account is ready
mail-invite-made-by = { $by } made an account for you on { $host }.
mail-invite-made = An administrator made an account for you on { $host }.
mail-invite-open = Open this link to choose your password:
mail-invite-button = Choose your password
mail-invite-expiry = The link works once and expires in { $days ->
    [one] 1 day
   *[other] { $days } days
}. After the password, you may be asked to set up a second sign-in step (an authenticator app or a passkey).
mail-invite-ignore = If you did not expect this, ignore this message: the account stays unusable until the link is used.
mail-alert-what = What
mail-alert-when = When
mail-alert-from = From
mail-alert-account = Account
mail-alert-you = If this was you, there is nothing to do.
mail-alert-not-you = If it was not you, someone may be in your account:
mail-alert-reset-at = reset your password now at
mail-alert-reset-link = reset your password now
mail-alert-tell = and tell your administrator.
alert-factor-added-subject = A sign-in method was added
alert-factor-added-headline = A new way to confirm it is you was added to your account.
alert-factor-removed-subject = A sign-in method was removed
alert-factor-removed-headline = A way to confirm it is you was removed from your account.
alert-device-trusted-subject = A device was trusted
alert-device-trusted-headline = A device was trusted: it will not be asked for your second step for a while.
alert-recovery-used-subject = Your account was recovered
alert-recovery-used-headline = Your account was recovered with a recovery link, and a new sign-in method was set up.
alert-password-changed-subject = Your password was changed
alert-password-changed-headline = The password of your account was changed. Every other session was signed out.
alert-locked-out-subject = Sign-in locked after failed attempts
alert-locked-out-headline = Signing in to your account was paused after several wrong attempts.

## Devices
device-unknown = Unknown device
device-browser-on = { $browser } on { $system }
device-some-browser-on = A browser on { $system }

## Refusals (the English text is also what the JSON API says)
refuse-form-unreadable = The form could not be read. Please try again.
refuse-factor-not-offered = { $factor } is not offered for this sign-in
refuse-factor-before-step = a factor cannot be added before this sign-in's second step is complete
refuse-factor-not-here = { $factor ->
    [totp] an authenticator app
    [passkey] a passkey
    [sms] text message codes
    [email] email codes
   *[other] backup codes
} cannot be set up in this step
refuse-no-email = your account has no email address to send codes to
refuse-no-postpone = setting up a second factor cannot be postponed
refuse-trust-token = the trust-device token is invalid, expired or used
refuse-own-session = That is the session you are using: sign out instead.
refuse-no-factor-enrolled = no second factor is enrolled; sign in with your password again
refuse-current-password = The current password is not right.
refuse-new-passwords-differ = The two new passwords are not the same.
refuse-passwords-differ = The two passwords are not the same.
refuse-password-wrong = That password is not right.
refuse-password-length = Passwords are 12 to 128 characters long.
refuse-totp-exists = an authenticator app is already set up; remove it first
refuse-backup-primary = backup codes are the way back in, not a primary factor
refuse-backup-off = backup codes are turned off
refuse-devices-off = trusted devices are turned off
refuse-name-length = names are at most 64 characters, without control characters
refuse-passkeys-max = you already have { $count } passkeys; remove one first
refuse-passkey-registration-expired = the passkey registration expired or was already used; start again
refuse-passkey-known = this passkey is already registered
refuse-no-passkey = no passkey is registered for this account
refuse-passkey-challenge-expired = the passkey challenge expired or was already used; try again
refuse-recovery-off = Recovery by email is turned off here. Contact your administrator to get back in.
refuse-recovery-no-factor = no second factor can be set up here; ask an administrator to help you back in
refuse-phone-empty = enter a phone number with its country code, like +1 555 555 5671
refuse-phone-country = start the number with + and its country code, like +1 555 555 5671
refuse-phone-invalid = that is not a phone number
refuse-phone-plan = that number does not exist in its country's numbering plan
refuse-phone-country-closed = text messages cannot be sent to +{ $code } numbers here
refuse-email-long = that email address is too long
refuse-email-invalid = that is not an email address
limit-code-resend = Please wait before asking for another code.
limit-code-account = Too many codes were sent to this account. Try again later.
limit-code-destination = Too many codes were sent to this destination. Try again later.
limit-code-client = Too many codes were asked for from this address. Try again later.
limit-sms-all = Text messages are paused for a while. Use another way to sign in, or try again later.
limit-code-emails-all = Code emails are paused for a while. Use another way to sign in, or try again later.
limit-link-resend = A link was just sent. Please wait a minute before asking again.
limit-link-destination = Too many links were asked for this address. Try again later.
limit-link-client = Too many links were asked for from this address. Try again later.
limit-emails-all = Emails are paused for a while. Try again later, or ask an administrator.

## Administration: navigation, overview, users
adm-title = Administration
adm-nav-overview = Overview
adm-nav-users = Users
adm-nav-apps = Applications
adm-nav-stats = MFA dashboard
adm-nav-audit = Audit log
adm-nav-settings = Sign-in settings
adm-nav-plugins = Selector plugins
adm-nav-webhooks = Webhooks
adm-nav-account = Your account
adm-home-second-step = Second step
adm-home-adoption = { $enrolled } of { $users } active users have a second step set up.
adm-home-day = The last 24 hours
adm-home-sign-ins = Sign-ins
adm-home-failures = Failed attempts (password or second step)
adm-home-lockouts = Lockouts
adm-home-recoveries = Accounts recovered
adm-home-more = Day by day on the MFA dashboard; for 7 and 30 days and per application in the API
adm-users-title = Users
adm-users-find = Find by username, email or name
search = Search
adm-users-count = { $count ->
        [one] 1 user.
       *[other] { $count } users.
    }
adm-users-matching = { $count ->
        [one] 1 user
       *[other] { $count } users
    } matching “{ $q }”.
adm-col-user = User
adm-col-email = Email
adm-col-groups = Groups
adm-col-last-sign-in = Last sign-in
adm-col-state = State
adm-badge-admin = admin
adm-badge-verified = verified
adm-badge-on = On
adm-badge-none = None
adm-never = never
adm-badge-disabled = disabled
adm-badge-locked = locked
adm-badge-invited = invited
adm-state-active = active
adm-pages = Pages
adm-previous = Previous
adm-next = Next
adm-page-of = Page { $page } of { $total }
adm-invite-h = Invite a user
adm-invite-intro = The account is made now; the person chooses their own password with a one-time link, then signs in and sets up a second step as the policy asks.
adm-username = Username
adm-display-name = Display name
adm-groups-commas = Groups (separated by commas)
adm-invite-days = The link is valid for (days, 1 to 14)
adm-invite-email = Email the link to that address
adm-invite-submit = Invite

## Administration: one user
adm-user-is-admin = administrator
adm-user-last-sign-in = last sign-in
adm-user-disabled-note = This account is disabled: it cannot sign in.
adm-user-recovery-link-h = Recovery link
adm-shown-once = Shown once.
adm-user-recovery-link-text = The user opens it, signs in with their password, sets up a new second step, and only then has a session.
adm-user-invitation-link-h = Invitation link
adm-user-invitation-link-text = The user opens it and chooses a password; nobody else ever sees it.
adm-user-pending-h = Invitation not accepted yet
adm-user-pending-text = This account has no password: it cannot sign in until the user opens their invitation.
adm-user-valid-days = Valid for (days, 1 to 14)
adm-user-email-too = Email it to the user too
adm-user-reinvite = Make a new invitation (the old link stops working)
adm-user-new-codes-h = New backup codes
adm-user-methods-h = Sign-in methods
adm-user-no-second-step = No second step set up.
adm-since = since { $date }
adm-reason-audit = Reason (for the audit log)
adm-user-remove-factor-confirm = Remove it: every session and trusted device of this user ends
adm-remove = Remove
adm-user-backup-left = { $count ->
        [one] 1 unused backup code.
       *[other] { $count } unused backup codes.
    }
adm-user-new-codes = Make a new set of backup codes
adm-user-reset-confirm = Remove every method: the user sets one up at the next sign-in
adm-user-reset = Reset second step
adm-user-help-h = Help them back in
adm-user-help-text = Instead of a session: a one-time link that only lets the user set up a new second step.
adm-reason-required = Reason (required, kept in the audit log)
adm-user-link-hours = Expires in (hours, at most 24)
adm-user-link-email = Also email it to their verified address
adm-user-make-link = Make a recovery link
adm-user-locked-until = Locked after failed attempts until { $date }.
adm-unlock = Unlock
adm-sessions-h = Sessions
adm-user-no-sessions = Not signed in anywhere.
adm-from-ip = from { $ip }
adm-last-seen = last seen { $date }
adm-session-second-step = second step: { $how }
adm-end = End
adm-user-end-all-confirm = Sign them out everywhere
adm-user-end-all = End every session
adm-user-devices-h = Trusted devices
adm-none = None.
adm-stop-trusting = Stop trusting
adm-groups-h = Groups
adm-user-no-groups = In no group.
adm-user-take-out = Take out
adm-user-add-group = Add to group
adm-add = Add
adm-account-h = Account
adm-user-enable = Enable the account
adm-user-disable-confirm = Disable: every session, token and trusted device ends
adm-user-disable = Disable the account
adm-user-events-h = Recent events
adm-nothing-yet = Nothing yet.
adm-col-when = When
adm-col-event = Event
adm-col-detail = Detail
adm-badge-by-admin = by an admin

## Administration: applications
adm-apps-register = Register an application
adm-apps-none = No applications yet.
adm-col-name = Name
adm-col-protocol = Protocol
adm-col-identifier = Client id or entity ID
adm-col-plugins = Plugins
adm-none-lower = none
adm-apps-urls = Redirect and service URLs must be https, or http on a loopback host.
adm-apps-urls-dev = Redirect and service URLs must be https (or http: this server runs in dev mode).
adm-apps-client-type = Client type
adm-apps-confidential = Confidential: a server that keeps a client secret
adm-apps-public = Public: a single-page or native app, no secret, PKCE required
adm-apps-client-id-generated = Client id (empty: generated)
adm-apps-register-submit = Register
adm-apps-name = Name (shown to users)
adm-apps-redirects = Redirect URIs, one per line (matched exactly)
adm-apps-logouts = Post-logout redirect URIs, one per line
adm-apps-scopes = Extra scopes, separated by spaces, beyond
adm-apps-client-credentials = The client may ask for tokens in its own name (client credentials grant: a service with no user; confidential clients only)
adm-saml-metadata = The service provider's metadata (fields below win over it)
adm-saml-file = Metadata file (XML)
adm-saml-paste = or paste it
adm-saml-entity = Entity ID
adm-saml-acs = Assertion consumer service URLs (HTTP-POST), one per line; the first is the default
adm-saml-slo = Single logout URL
adm-saml-cert = The SP's signing certificate (PEM or base64)
adm-saml-signed = Requests must be signed
adm-saml-signed-default = As the metadata says (else no)
adm-yes = Yes
adm-no = No
adm-saml-nameid = NameID format
adm-saml-nameid-default = As the metadata says (else persistent)
adm-saml-sign = What the IdP signs
adm-saml-sign-what = { $what ->
        [assertion] The assertion
        [response] The response
       *[other] The response and the assertion
    }
adm-saml-attrs = Attributes (empty: email, name, username and groups), one per line as
adm-saml-idp-initiated = Allow IdP-initiated sign-in (unsolicited responses)
adm-saml-relay = Default RelayState for IdP-initiated sign-in

## Administration: an application, sign-in settings
adm-policy = { $p ->
        [disabled] Off
        [optional] Only for users who set one up
        [any] Required: any method
        [otp] Required: a code or a passkey
        [passkey] Required: a passkey (phishing-resistant)
       *[inherit] As for everyone
    }
adm-factor = { $f ->
        [totp] Authenticator app (TOTP)
        [passkey] Passkeys
        [sms] Text message codes
        [email] Email codes
       *[other] Backup codes
    }
adm-alert = { $a ->
        [alert_factor_changes] A sign-in method is added or removed
        [alert_new_trusted_device] A device is trusted
        [alert_recovery_used] The account is recovered
        [alert_password_changes] The password changes
       *[alert_lockout] Sign-in is locked after failed attempts
    }
adm-app-registered = registered { $date }
adm-app-secret-h = Client secret
adm-app-secret-text = Put it in the application's configuration now.
adm-app-config-h = For the application's configuration
adm-app-issuer = Issuer
adm-app-discovery = Discovery
adm-app-client-id = Client id
adm-app-public = Public: no secret, PKCE required
adm-app-confidential = Confidential:
adm-app-rotate-confirm = Replace the secret now: the old one stops working at once
adm-app-rotate = Rotate client secret
adm-app-registration-h = Registration
save = Save
adm-app-sp-config-h = For the service provider's configuration
adm-app-idp-metadata = IdP metadata
adm-app-idp-entity = IdP entity ID
adm-app-sso = Single sign-on
adm-app-policy-label = Policy (group minimums still apply)
adm-app-reauth = Ask again after (minutes; 0 = as for everyone)
adm-app-trusted = Trusted devices may skip the second step
adm-app-methods = Methods this app accepts (none ticked: every method allowed for everyone)
adm-app-plugins-none = None assigned to this app (a global one may still run).
adm-on-error = on error: { $how }
adm-app-no-plugins = No plugins uploaded yet.
adm-app-upload-one = Upload one
adm-plugin = Plugin
adm-mode = Mode
adm-mode-shadow = Shadow: decisions logged, not used
adm-mode-active = Active: decides this app's second step
adm-mode-disabled = Disabled
adm-if-fails = If the plugin fails
adm-fail-secure = Fail secure: require the strongest step
adm-fail-open = Fail open: use the static policy
adm-assign = Assign
adm-delete-h = Delete
adm-app-delete-confirm = Delete { $name }: its sign-ins stop, its tokens and plugin assignments go
adm-app-delete = Delete application
adm-settings-intro = Changes apply to the next sign-in on every node.
adm-settings-everyone = Everyone
adm-settings-methods = Methods users may set up
adm-settings-no-sms = (no SMS transport configured: not offered)
adm-settings-no-email = (no email transport configured: not offered)
adm-settings-enforce = Everyone must set up a second step, even where it is optional
adm-settings-grace = Days users may postpone setting one up
adm-settings-reauth = Ask for the second step again after (minutes, 0 = once per session)
adm-settings-trusted = Trusted devices last (days, 0 = off)
adm-settings-backup = Backup codes per set (0 = off)
adm-settings-recovery-h = The way back in, and alerts
adm-settings-by-email = Users may, by email
adm-settings-self-recovery = recover a lost second step (otherwise they ask an administrator)
adm-settings-self-reset = reset a forgotten password
adm-settings-email-when = Email users when
adm-settings-no-transport = No email transport is configured: none of this is sent until one is.
adm-settings-groups-intro = Members get the strictest minimum of their groups.
adm-members = { $count ->
        [one] 1 member
       *[other] { $count } members
    }
adm-minimum = Minimum
adm-no-minimum = No minimum
adm-new-group = New group
adm-add-group = Add group
adm-settings-apps-intro = Each application can ask for more than the settings above; change that on its page.
adm-ask-again-after = ask again after { $minutes } min
adm-no-trusted-devices = no trusted devices

## Administration: audit log, MFA dashboard
adm-audit-user = User (username or id)
adm-audit-app = Application id
adm-audit-from = From (day, UTC)
adm-audit-to = To (day, UTC)
adm-filter = Filter
adm-export-csv = Export CSV
adm-export-json = Export JSON
adm-no-entries = No entries.
adm-col-by = By
adm-col-app = App
adm-col-address = Address
adm-older = Older entries
adm-stats-per-day = Figures per day (UTC) for the last { $days } days.
adm-figures = Figures
adm-day = Day
adm-stats-with-step = With a second step
adm-stats-rate-note = Counted from the methods users have now: a method removed since no longer counts for the days before.
adm-stats-daily-h = Sign-ins per day
adm-stats-highest = highest day: { $count }
adm-runs = Runs
adm-failed = Failed
adm-stats-no-plugin = No plugin ran in the last { $days } days.
chart-bars-summary = { $total } in { $days } days; most on { $day } ({ $most }).
chart-bars-none = None in { $days } days.
chart-line-summary = From { $from } to { $to } over { $days } days.
chart-no-data = No data.
chart-rate = Users with a second step
chart-sign-ins = Sign-ins
chart-challenges = Second-step challenges
chart-failures = Failed second steps
chart-lockouts = Lockouts
chart-recoveries = Account recoveries
chart-factors = Sign-in methods in use (users)
chart-backup-codes = Unused backup codes
chart-plugin-runs = { $count } runs, { $failed } failed
chart-plugins = Selector plugin runs, last { $days } days

## Administration: plugins list, webhooks
adm-plugins-intro = A selector plugin decides, for each sign-in, how strict the second step is. It can only make a sign-in stricter than the settings, never weaker. Its contract:
adm-plugins-uploaded = Uploaded
adm-plugins-none = No plugins yet. Upload a component below; examples are in
adm-not-assigned = not assigned
adm-world = world { $world }
adm-uploaded-on = uploaded { $date }
adm-plugins-upload-h = Upload a plugin
adm-plugins-upload-text = A WebAssembly component (up to { $size }). It is compiled and checked against its world now; uploading a name again adds a new version. A new version runs nowhere until you assign it.
adm-plugins-component = Component (.wasm)
adm-plugins-name-help = Lowercase letters, digits, - and _.
adm-description = Description
adm-limits = Limits
adm-fuel = Fuel (instructions per sign-in)
adm-memory = Memory (MiB)
adm-time-limit = Time limit (ms)
adm-upload = Upload
adm-webhooks-intro = Audit events go to these endpoints, signed as Standard Webhooks specify and retried with growing pauses
adm-webhooks-secret-h = Signing secret for { $id }
adm-webhooks-secret-text = Configure the receiver with it.
adm-webhooks-subscribers = Subscribers
adm-none-yet = None yet.
adm-badge-on-lower = on
adm-badge-off-lower = off
adm-webhooks-events = events:
adm-webhooks-rotating = the previous secret signs too until { $date }
adm-webhooks-test = Send a test event
adm-turn-off = Turn off
adm-turn-on = Turn on
adm-webhooks-rotate-confirm = New secret (the old one works 24 more hours)
adm-webhooks-rotate = Rotate secret
adm-webhooks-remove-confirm = Remove this subscriber
adm-webhooks-new-h = Register a subscriber
adm-webhooks-endpoint = Endpoint (https://)
adm-webhooks-events-label = Events (names or prefixes, separated by spaces; empty = all), like

## Administration: one plugin version
adm-plugin-about = About this version
adm-plugin-world = World
adm-plugin-size = Size
adm-plugin-uploaded = Uploaded
adm-plugin-recent = In recent sign-ins
adm-plugin-not-run = Not run in any recorded sign-in yet.
adm-plugin-evaluations = Evaluations
adm-plugin-errors = Errors
adm-plugin-time = Time
adm-plugin-where = Where it runs
adm-plugin-where-text = An application's active plugin replaces the global one for that application. Shadow runs beside the active plugin and is recorded, never enforced: use it to see what a plugin would do before you activate it.
adm-plugin-not-assigned = Not assigned: it runs in no sign-in.
adm-plugin-for = For
adm-plugin-shadow = Shadow: record, do not enforce
adm-plugin-active = Active: enforce
adm-plugin-if-fails = If it fails (trap, fuel, time, memory, invalid decision)
adm-plugin-fail-secure = Require a second step (fail secure)
adm-plugin-fail-open = Keep the settings' policy (fail open)
adm-plugin-save-assignment = Save assignment
adm-plugin-test-h = Test
adm-plugin-test-text = Runs this version on a login context and shows its decision, log, fuel and time. Nothing is recorded or enforced.
adm-plugin-decision = Decision
adm-plugin-failed = Failed: { $why }
adm-plugin-logs-dropped = { $count ->
        [one] 1 log line dropped
       *[other] { $count } log lines dropped
    }
adm-plugin-log = Log
adm-plugin-recorded = A recorded sign-in
adm-plugin-test-recorded = Test on this sign-in
adm-plugin-context = Login context (JSON)
adm-plugin-test-context = Test on this context
adm-plugin-replay = Replay
adm-plugin-replay-text = Runs this version on the recorded contexts of recent sign-ins and compares what it would have enforced with what was enforced.
adm-plugin-replayed = { $count ->
        [one] 1 sign-in replayed
       *[other] { $count } sign-ins replayed
    }
adm-plugin-differ = { $count } would differ
adm-plugin-replay-failed = { $count } failed
adm-plugin-replay-incomplete = The time ran out: { $count } of the { $found } sign-ins found were replayed, the newest first. Replay fewer, or give this version a shorter time limit.
adm-plugin-sign-in = Sign-in
adm-plugin-enforced = Enforced
adm-plugin-this-version = This version
adm-plugin-replay-last = Recent sign-ins to replay
adm-plugin-delete-text = Deletes this version. Refused while it is assigned anywhere. Its records in the decision log go with it.

## Administration: confirmations and refusals
notice-settings = Settings saved.
notice-group = Group saved.
notice-app = Application saved.
notice-app-created = Application registered. Give the service provider the IdP details below.
notice-app-removed = Application deleted, with its grants and plugin assignments.
notice-uploaded = Plugin uploaded. Test it, then run it in shadow mode before you activate it.
notice-assigned = Assignment saved. It applies to the next sign-in.
notice-unassigned = Assignment removed.
notice-deleted = Plugin version deleted.
notice-user = Done. The change is in this user's audit log below.
adm-saved = Saved
adm-note-session-below-policy = Your session no longer meets the new policy: verify your second step on your account page before changing settings again.
adm-note-backup-codes = New backup codes. Hand them to the user now: they are not shown again.
adm-note-recovery-link = Recovery link made; it works once until { $date }. Give it to the user over a channel you trust.
adm-note-recovery-link-sent = Recovery link made; it works once until { $date }. It was also emailed to the user's verified address. Give it to the user over a channel you trust.
adm-note-invitation = Invitation made; it works once until { $date }. The user chooses a password with it, then signs in.
adm-note-invitation-sent = Invitation made; it works once until { $date }. It was also emailed to the user. The user chooses a password with it, then signs in.
adm-note-app-confidential = Application registered. Copy the client secret now: it is not shown again.
adm-note-app-public = Application registered. It is a public client: it signs in with PKCE, without a secret.
adm-note-new-secret = New client secret. Copy it now: it is not shown again, and the old one no longer works.
adm-note-webhook-registered = Subscriber registered. Give its receiver this secret now: it is not shown again.
adm-note-webhook-test = A webhook.test event is on its way; see the deliveries below.
adm-note-webhook-rotated = New secret, shown once. The old one keeps signing beside it for 24 hours.
adm-scope-global = Every application (global)
adm-warn-own-account = Your own account has no { $factor ->
    [passkey] passkey
    [totp] authenticator app
   *[other] second step
} yet, which the policy `{ $policy }` now asks of you: set one up on your account page before you sign in again or change settings.
adm-err-confirm = Tick the box to confirm.
adm-err-confirm-undo = Tick the box to confirm: this cannot be undone.
adm-err-confirm-rotate = Tick the box to confirm: the app stops working until it has the new secret.
adm-err-confirm-delete-app = Tick the box to confirm: deleting an app cannot be undone.
adm-err-link-hours = Expires in: a whole number of hours, 1 to 24.
adm-err-disable-self = You cannot disable your own account.
adm-err-invite-days = An invitation is valid 1 to { $max } days.
adm-err-attribute = Attributes: `{ $line }` is not `SAML name = source`
adm-err-reauth-minutes = Ask again after: enter a whole number of minutes.
adm-err-component-size = The component is larger than the upload cap ({ $size }).
adm-err-no-component = Choose a component file (.wasm) to upload.
adm-err-decision-gone = That recorded login is no longer kept.
adm-err-replay-last = last: enter a number from 1 to 1000
adm-err-url-long = { $what }s are at most { $max } bytes
adm-err-url-relative = { $what } `{ $url }` is not an absolute URL
adm-err-url-fragment = { $what } `{ $url }` must not have a fragment
adm-err-url-http = { $what } `{ $url }`: http is only allowed for loopback hosts
adm-err-url-https = { $what } `{ $url }` must be https
adm-err-redirect-required = a public client needs at least one redirect URI
adm-err-redirect-many = at most { $max } redirect URIs of each kind
adm-err-scopes-many = at most { $max } extra scopes of 1-128 characters
adm-err-scope = invalid scope `{ $scope }`
adm-err-app-name = the app needs a name of 1-128 characters
adm-err-client-id = client ids are 1-128 visible ASCII characters without `:`
adm-err-client-id-taken = client id `{ $id }` is taken
adm-err-client-id-uuid = a client whose id has the form of a user id (a UUID) cannot use the client credentials grant: a token in the client's own name has its client id as subject
adm-err-entity-taken = entity ID `{ $id }` is already registered
adm-err-self-disable = you cannot disable your own account; another administrator can
adm-err-self-mfa = your own sign-in methods are managed on your account page, which asks for a fresh second factor, not with the administrator tools
adm-user-self-mfa = This is your own account: manage your sign-in methods on your account page.
adm-err-public-no-secret = a public client has no secret: it proves itself with PKCE
adm-err-cc-public = the client credentials grant is for confidential clients: a public client has no secret to prove itself with
adm-err-secret-raced = the secret was just changed by someone else: use the one they were shown, or rotate again
adm-err-expires-in = expires_in is in seconds, from 60 to { $max } (24 hours)
adm-err-account-disabled = the account is disabled; enable it first
adm-err-no-verified-email = the user has no verified email address to send it to
adm-err-reason-required = a reason is required (it goes into the audit log)
adm-err-reason-long = the reason is one line of at most 500 characters
adm-err-plugin-name = the name must be 1 to 64 characters: lowercase letters, digits, '-' and '_'
adm-err-plugin-description = the description is longer than 500 characters
adm-err-plugin-size = the component is { $size } bytes; the cap is { $max }
adm-err-plugin-mode = mode must be active, shadow or disabled
adm-err-plugin-scope = no app with id `{ $id }` (use `global` for every app)
adm-err-plugin-on-error = on_error must be fail_secure or fail_open
adm-err-user-fields = emails are at most 254 characters and display names 128, without control characters
adm-err-user-exists = user `{ $name }` already exists
adm-err-invite-has-password = This user already chose a password: send a recovery link instead.
adm-err-invite-no-email = To email the invitation, give the user's email address.
adm-err-username = usernames are 1-64 characters, without surrounding spaces
adm-err-group-name = group names are 1-128 characters, without surrounding spaces
adm-err-no-user = no user `{ $name }`
adm-err-webhook-url = url: an https:// address without credentials in it (http:// only with delivery.allow_insecure_webhooks)
adm-err-webhook-url-long = url: at most 2000 characters, without a #fragment
adm-err-webhook-events = events: from 1 to 50 event names, prefixes (`mfa.*`) or `*`
adm-err-webhook-event = events: `{ $event }` is not an event name, a prefix like `mfa.*`, or `*`
adm-err-webhook-description = description: one line of at most 200 characters
adm-err-webhook-url-required = url is required
adm-err-policy-passkey-host = { $what } `{ $policy }` cannot be met on this issuer: passkeys need a domain name ({ $issuer }), so no one could sign in
adm-err-policy-factor = { $what } `{ $policy }` needs `{ $factor }` in mfa_allowed_factors (now [{ $allowed }]), or no one it applies to could sign in
adm-err-enforce-no-factor = mfa_enforce_enrollment needs a factor in mfa_allowed_factors that works on this issuer
adm-err-app-factors = app `{ $app }`: allowed_factors [{ $factors }] leave nothing here that meets `{ $policy }`, so no one could sign in to it
adm-err-reauth-range = reauth_interval_minutes must be between 0 and 525600
adm-effect-denied = denied
adm-effect-factors = factors: { $factors }
adm-effect-no-trust = no trusted-device skip

## A sign-in method, as people call it
factor-name = { $f ->
    [totp] an authenticator app
    [passkey] a passkey
    [sms] text message codes
    [email] email codes
   *[other] backup codes
}

## More refusals
refuse-page-expired = the page expired; reload it and try again
refuse-unreadable = the request could not be read
refuse-passkey-response = The browser did not return a usable passkey response ({ $why }).
refuse-unstorable = text contains a character that cannot be stored
refuse-admins-only = administrators only
refuse-passkeys-unavailable = passkeys are unavailable here: { $why }
refuse-passkey-registration = the passkey could not be registered: { $why }
adm-err-form-unreadable = The form could not be read: { $why }
adm-err-upload-unreadable = The upload could not be read: { $why }
adm-err-not-utf8 = `{ $field }` is not UTF-8 text
adm-err-policy = mfa_policy: `{ $value }` is not a policy
adm-err-number = { $field }: enter a whole number
adm-err-number-or-empty = { $field }: enter a whole number, or leave it empty
adm-err-context = The context is not a login context: { $why }
adm-err-date = { $field }: a date like 2026-12-01
adm-err-plugin-assigned = the plugin is assigned; remove its assignments first
adm-err-sp-cert-encoding = the SP certificate is neither PEM nor base64 DER
adm-err-sp-cert = the SP certificate is not an X.509 certificate
adm-err-sp-metadata = SP metadata: { $why }

## SAML registration refusals
adm-err-saml-entity-required = an entity ID is required (or SP metadata that has one)
adm-err-saml-entity = the entity ID must be a URI of 1 to 1024 characters without surrounding spaces
adm-err-saml-acs-required = at least one assertion consumer service URL is required
adm-err-saml-acs-index = ACS indexes must be unique
adm-err-saml-acs-default = only one ACS can be the default
adm-err-saml-signed-needs-cert = signed requests need the SP's signing certificate
adm-err-saml-nameid = unknown NameID format `{ $format }` (one of { $known })
adm-err-saml-attribute-name = attribute names are 1 to 256 characters
adm-err-saml-attribute-twice = attribute `{ $name }` is mapped twice
adm-err-saml-attribute-source = attribute `{ $name }`: unknown source `{ $source }` (one of { $known }, or static:VALUE)
adm-err-saml-sign = sign must be assertion, response or both, not `{ $value }`
adm-err-saml-relay = the default RelayState is at most 80 bytes
