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
