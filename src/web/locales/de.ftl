# Portcullis-Seiten, Deutsch.

## Allgemein
continue-to = weiter zu
lang-label = Sprache
lang-submit = Wechseln
show-password = Passwort anzeigen
hide-password = Passwort verbergen
reference = Referenz: { $id } – bitte angeben, wenn Sie Hilfe brauchen.
duration-under-minute = weniger als eine Minute
duration-minutes = { $count ->
    [one] 1 Minute
   *[other] { $count } Minuten
}
duration-hours = etwa { $count ->
    [one] 1 Stunde
   *[other] { $count } Stunden
}
back-to-sign-in = Zurück zur Anmeldung
sign-in-link = Anmelden
verify = Bestätigen
copy = Kopieren
copied = Kopiert
copy-failed = Kopieren fehlgeschlagen
print = Drucken
download = Herunterladen

## Fehlerseiten
error-title-400 = Das hat nicht geklappt
error-title-403 = Nicht erlaubt
error-title-404 = Nicht gefunden
error-title-429 = Zu viele Versuche
error-title-503 = Ausgelastet
error-title-other = Etwas ist schiefgegangen
error-go-start = Zur Startseite

## Anmeldung
login-title = Anmelden
login-username = Benutzername
login-password = Passwort
login-submit = Anmelden
login-forgot = Passwort vergessen?

## Zweiter Schritt
mfa-title = Bestätigung in zwei Schritten
mfa-signing-in-as = Anmeldung als
mfa-not-you = Nicht Sie?
mfa-locked = Zu viele falsche Versuche: Der zweite Schritt ist für { $wait } gesperrt. Danach können Sie es erneut versuchen, oder nutzen Sie „Kein Zugriff mehr“ unten.
mfa-attempts-left = { $count ->
    [one] Noch ein falscher Versuch, dann wird der zweite Schritt eine Weile gesperrt.
   *[other] Noch { $count } Versuche, bevor der zweite Schritt eine Weile gesperrt wird.
}
mfa-totp-label = Code aus Ihrer Authenticator-App
mfa-passkey = Passkey verwenden
mfa-passkey-needs-js = Die Anmeldung mit einem Passkey braucht JavaScript.
mfa-backup-summary = Einen Backup-Code verwenden
mfa-backup-label = Backup-Code
mfa-backup-submit = Backup-Code verwenden
mfa-backup-low = { $count ->
    [one] Sie haben noch 1 Backup-Code. Erstellen Sie nach der Anmeldung in Ihrem Profil neue.
   *[other] Sie haben noch { $count } Backup-Codes. Erstellen Sie nach der Anmeldung in Ihrem Profil neue.
}
mfa-lost-heading = Kein Zugriff mehr auf Ihren zweiten Schritt?
mfa-lost-email = Wir können einen einmaligen Link an die bestätigte E-Mail-Adresse Ihres Kontos senden. Damit richten Sie eine neue Anmeldemethode ein; die alten funktionieren dann nicht mehr.
mfa-lost-email-submit = Wiederherstellungslink per E-Mail senden
mfa-lost-admin = Wenden Sie sich an Ihre Administration: Sie kann prüfen, dass Sie es sind, und Ihnen einen Wiederherstellungslink senden.
mfa-enroll-next = Nach diesem Schritt richten Sie eine weitere Anmeldemethode ein.
sent-sms-heading = SMS
sent-sms-send = Code per SMS an { $to } senden
sent-sms-code = Code aus der SMS
sent-email-heading = E-Mail
sent-email-send = Code per E-Mail an { $to } senden
sent-email-code = Code aus der E-Mail
sent-new-code = Neuen Code an { $to } senden

## Zweiten Schritt einrichten
enroll-recover-title = Neue Anmeldemethode einrichten
enroll-recover-keep = Sie stellen Ihr Konto wieder her. Richten Sie unten eine Methode ein, um abzuschließen: Ihre alten Methoden bleiben, und Sie werden überall sonst abgemeldet.
enroll-recover-replace = Sie stellen Ihr Konto wieder her. Richten Sie unten eine Methode ein, um abzuschließen: Ihre alten Methoden funktionieren dann nicht mehr, und Sie werden überall sonst abgemeldet.
enroll-title = Bestätigung in zwei Schritten einrichten
enroll-required-by-app = { $app } verlangt bei der Anmeldung einen zweiten Schritt.
enroll-required-by-org = Ihre Organisation verlangt bei der Anmeldung einen zweiten Schritt.
enroll-passkey-advice = Ein Passkey ist am schnellsten und sichersten: nichts zu tippen, und er lässt sich nicht abfischen.
enroll-recommended = Empfohlen
passkey-heading = Passkey
enroll-passkey-help = Mit der Bildschirmsperre Ihres Geräts, einem Sicherheitsschlüssel oder einem Passwortmanager.
enroll-passkey-name = Name für diesen Passkey
passkey-default-name = Passkey
enroll-passkey-create = Passkey erstellen
enroll-passkey-needs-js = Zum Erstellen eines Passkeys wird JavaScript benötigt.
totp-heading = Authenticator-App
totp-code-from-app = Code aus der App
turn-on = Einschalten
enroll-sms-heading = Codes per SMS
enroll-sms-warning = Codes per SMS lassen sich leichter abfangen als eine App oder ein Passkey; nehmen Sie lieber diese, wenn Sie können.
enroll-sms-number = Ihre Mobilnummer mit Ländervorwahl
enroll-sms-send = Code per SMS senden
enroll-email-heading = Codes per E-Mail
enroll-email-send = Code per E-Mail an { $to } senden
enroll-later = Später einrichten
enroll-later-until = Später einrichten (bis { $date })
totp-scan = Scannen Sie diesen QR-Code mit einer Authenticator-App
totp-or = oder
totp-open-in-app = öffnen Sie ihn in der Authenticator-App auf diesem Gerät
totp-qr-alt = QR-Code für Ihre Authenticator-App
totp-by-hand = Oder geben Sie diesen Schlüssel von Hand ein:
totp-copy-key = Schlüssel kopieren
totp-enter-code = Geben Sie den 6-stelligen Code ein, den die App anzeigt.

## Nach dem zweiten Schritt
trust-save-codes-title = Backup-Codes sichern
trust-save-codes-text = Wenn Sie Ihr Telefon oder Ihren Sicherheitsschlüssel verlieren, meldet Sie jeder dieser Codes einmal an. Sichern Sie sie jetzt an einem sicheren Ort (Passwortmanager oder ausgedruckt): Sie werden nicht noch einmal angezeigt.
trust-title = Diesem Gerät vertrauen?
trust-text = Auf einem vertrauenswürdigen Gerät werden Sie { $days } Tage lang nicht nach einem zweiten Schritt gefragt. Vertrauen Sie nur Geräten, die Sie allein benutzen. Sie können das Vertrauen in Ihrem Profil widerrufen.
trust-device-name = Gerätename
trust-yes = Diesem Gerät vertrauen
trust-no = Jetzt nicht
trust-saved-continue = Gesichert – weiter

## Abmelden
logout-title = Abmelden
logout-question = Abmelden?
logout-app-asks = { $app } möchte Sie von { $brand } abmelden.
logout-confirm = Möchten Sie sich von { $brand } abmelden?

## Fehler auf Seiten (nach dem Code des Fehlers)
error-invalid_credentials = Benutzername oder Passwort ist falsch.
error-invalid_factor = Dieser Code oder Schlüssel wurde nicht akzeptiert.
error-expired_token = Dieser Anmeldeschritt ist abgelaufen oder wurde schon abgeschlossen. Bitte beginnen Sie neu.
error-invalid_link = Dieser Link ist nicht gültig: Er ist abgelaufen, wurde schon benutzt, oder ein neuerer wurde gesendet. Fordern Sie einen neuen an.
error-too_many_attempts = Zu viele Fehlversuche. Versuchen Sie es in { $wait } erneut.
error-not_found = Nicht gefunden.
error-unauthorized = Anmeldung erforderlich.
error-method_not_allowed = Diese Adresse nimmt diese Methode nicht an.
error-invalid_request = Die Anfrage kam nicht rechtzeitig an.
error-temporarily_unavailable = Der Dienst ist ausgelastet. Bitte versuchen Sie es gleich noch einmal.
error-server_error = Auf unserer Seite ist etwas schiefgegangen. Bitte versuchen Sie es erneut.

## Ihr Konto
continue = Weiter
on = An
off = Aus
new-password = Neues Passwort (mindestens 12 Zeichen)
new-password-again = Neues Passwort wiederholen
profile-title = Ihr Konto
profile-signed-in-as = Angemeldet als
profile-administration = Verwaltung
profile-enroll-by = Richten Sie bis { $date } einen zweiten Schritt ein: Danach wird er bei der Anmeldung verlangt.
profile-verify-heading = Bestätigen Sie, dass Sie es sind
profile-verify-factor = Um Anmeldemethoden hinzuzufügen oder zu entfernen, bestätigen Sie Ihren zweiten Schritt erneut.
profile-verify-password = Um eine Anmeldemethode hinzuzufügen, geben Sie Ihr Passwort erneut ein.
profile-totp-on = Codes aus Ihrer Authenticator-App sind ein zweiter Schritt.
profile-offered-first = Wird zuerst angeboten
profile-offer-first = Bei der Anmeldung zuerst anbieten
profile-totp-remove = Authenticator-App entfernen
profile-totp-off = Nutzen Sie eine App, etwa einen Passwortmanager oder Authenticator, für Anmeldecodes.
profile-totp-setup = Authenticator-App einrichten
profile-passkeys = Passkeys
profile-no-passkeys = Noch keine Passkeys. Ein Passkey nutzt die Bildschirmsperre Ihres Geräts oder einen Sicherheitsschlüssel und lässt sich nicht abfischen.
profile-added = Hinzugefügt { $date }
profile-last-used = zuletzt benutzt { $date }
profile-never-used = nie benutzt
profile-rename = Umbenennen
profile-rename-or-remove = Umbenennen oder entfernen
profile-new-name = Neuer Name
profile-remove-named = { $name } entfernen
profile-passkey-name = Name für den neuen Passkey
profile-passkey-add = Passkey hinzufügen
profile-passkey-needs-js = Zum Hinzufügen eines Passkeys wird JavaScript benötigt.
profile-codes-go-to = Codes gehen an { $to }.
profile-sms-weaker = Codes per SMS lassen sich leichter abfangen als eine Authenticator-App oder ein Passkey; manche Anmeldungen verlangen deshalb diese.
profile-email-weaker = Codes per E-Mail lassen sich leichter abfangen als eine Authenticator-App oder ein Passkey; manche Anmeldungen verlangen deshalb diese.
profile-sms-remove = Codes per SMS entfernen
profile-email-remove = Codes per E-Mail entfernen
profile-code-sent = Wir haben einen Code an { $to } gesendet. Er läuft in 5 Minuten ab.
profile-code = Code
profile-confirm = Bestätigen
profile-sms-new-number = Eine neue Nummer mit Ländervorwahl
profile-email-prove-again = { $to } erneut bestätigen
profile-no-email = Ihr Konto hat keine E-Mail-Adresse; die Administration kann eine hinzufügen.
profile-verify-first-setup = Bestätigen Sie zuerst, dass Sie es sind, um dies einzurichten.
profile-backup-heading = Backup-Codes
profile-backup-save = Sichern Sie diese Codes jetzt. Jeder funktioniert einmal; sie werden nicht noch einmal angezeigt. Ältere Codes gelten nicht mehr.
profile-backup-left = Noch { $left } von { $total } Codes.
profile-backup-made = (erstellt { $date })
profile-backup-low = Ihnen gehen die Backup-Codes aus. Erstellen Sie neue.
profile-backup-none = Mit Backup-Codes melden Sie sich an, wenn Sie Ihre anderen Methoden verlieren.
profile-backup-new-set = Neue Codes erstellen
profile-backup-make = Backup-Codes erstellen
profile-current-password = Aktuelles Passwort
profile-change-password = Passwort ändern
profile-password-effect = Eine Änderung meldet Sie überall sonst ab und vergisst Ihre vertrauenswürdigen Geräte.
profile-verify-first-password = Bestätigen Sie zuerst, dass Sie es sind, um Ihr Passwort zu ändern.
profile-devices = Vertrauenswürdige Geräte
profile-no-devices = Keine vertrauenswürdigen Geräte. Wenn Sie nach dem zweiten Schritt einem Gerät vertrauen, steht es hier.
profile-this-browser = Dieser Browser
profile-device-times = Zuletzt gesehen { $seen } · läuft ab { $expires }
profile-revoke = Widerrufen
profile-sessions = Wo Sie angemeldet sind
profile-this-session = Diese Sitzung
profile-session-times = angemeldet { $started } · zuletzt aktiv { $seen }
profile-sign-out-others = Überall sonst abmelden
profile-history = Letzte Anmeldungen
profile-history-none = Noch keine.
profile-history-to = bei { $app }
profile-history-advice = Etwas kommt Ihnen unbekannt vor? Ändern Sie Ihr Passwort und melden Sie sich überall sonst ab.
history-signed-in = Angemeldet
history-wrong-password = Falsches Passwort
history-mfa-failed = Zweiter Schritt fehlgeschlagen
history-locked = Nach Fehlversuchen gesperrt

## Bestätigungen auf der Kontoseite
notice-verified = Danke. Sie können Ihre Anmeldemethoden in den nächsten Minuten ändern.
notice-totp-added = Ihre Authenticator-App ist eingerichtet.
notice-totp-removed = Die Authenticator-App wurde entfernt.
notice-passkey-added = Ihr Passkey wurde hinzugefügt.
notice-passkey-renamed = Der Passkey wurde umbenannt.
notice-passkey-removed = Der Passkey wurde entfernt.
notice-device-revoked = Dem Gerät wird nicht mehr vertraut.
notice-sms-added = Codes per SMS sind eingerichtet.
notice-email-added = Codes per E-Mail sind eingerichtet, und Ihre Adresse ist bestätigt.
notice-codes-removed = Diese Anmeldemethode wurde entfernt.
notice-primary-set = Die Anmeldeseite bietet diese Methode zuerst an.
notice-password-changed = Ihr Passwort wurde geändert. Alle Ihre anderen Sitzungen wurden abgemeldet.
notice-session-ended = Diese Sitzung ist abgemeldet.
notice-sessions-ended = Alle anderen Sitzungen sind abgemeldet; diese bleibt.

## Links per E-Mail: Wiederherstellung, Passwort, Einladung
link-recover-title = Anmeldung wiederherstellen
link-reset-title = Passwort zurücksetzen
link-invite-title = Willkommen
link-recover-intro = Mit diesem Link richtet { $who } eine neue Methode ein, um die eigene Identität zu bestätigen. Bis dahin ist nichts anderes möglich.
link-your-password = Ihr Passwort
link-old-methods = Ihre alten Anmeldemethoden
link-old-replace = Entfernen (mein Telefon oder Schlüssel ist verloren oder gestohlen)
link-old-keep = Behalten (ich komme nur gerade nicht daran)
link-invite-intro = Für Sie wurde ein Konto angelegt: { $who }. Wählen Sie Ihr Passwort, um es zu nutzen.
link-first-password = Passwort (mindestens 12 Zeichen)
link-first-password-again = Passwort wiederholen
link-reset-intro = Wählen Sie ein neues Passwort für { $who }. Sie werden überall abgemeldet, und die nächste Anmeldung verlangt weiter Ihren zweiten Schritt.
link-set-password = Passwort festlegen
link-not-valid = Dieser Link ist nicht gültig: Er ist abgelaufen, wurde schon benutzt, oder ein neuerer wurde gesendet.
link-invite-ask-new = Bitten Sie die Person, die Sie eingeladen hat, um eine neue Einladung.
link-ask-new = Neuen Link anfordern
link-invite-open = Öffnen Sie den Link aus Ihrer Einladung, um Ihr Passwort zu wählen. Verloren? Bitten Sie die Person, die Sie eingeladen hat, um einen neuen.
link-recover-ask = Geben Sie die E-Mail-Adresse Ihres Kontos ein. Ist sie bestätigt, senden wir einen einmaligen Link, mit dem Sie eine neue Anmeldemethode einrichten.
link-reset-ask = Geben Sie die E-Mail-Adresse Ihres Kontos ein. Ist sie bestätigt, senden wir einen einmaligen Link, um ein neues Passwort zu wählen.
link-email = E-Mail-Adresse
link-send = Link senden
link-recover-off = Die Wiederherstellung per E-Mail ist hier abgeschaltet. Wenden Sie sich an Ihre Administration: Sie kann prüfen, dass Sie es sind, und Ihnen wieder Zugang verschaffen.
link-reset-off = Das Zurücksetzen des Passworts per E-Mail ist hier abgeschaltet. Wenden Sie sich an Ihre Administration: Sie kann prüfen, dass Sie es sind, und Ihnen wieder Zugang verschaffen.

## Meldungsseiten
back = Zurück
msg-check-email-title = Sehen Sie in Ihre E-Mails
msg-check-email = Wenn ein Konto diese bestätigte E-Mail-Adresse hat, ist ein Link unterwegs. Er funktioniert einmal und läuft bald ab; kommt nichts an, prüfen Sie die Adresse oder fragen Sie Ihre Administration.
msg-password-set = Ihr Passwort ist festgelegt. Melden Sie sich damit als { $username } an; eventuell werden Sie gebeten, einen zweiten Schritt einzurichten.
msg-password-changed-title = Passwort geändert
msg-password-changed = Ihr Passwort wurde geändert, und Sie wurden überall abgemeldet. Melden Sie sich mit dem neuen Passwort an; Ihr zweiter Schritt wird weiter verlangt.
msg-recovery-sent = Wir haben einen Wiederherstellungslink an { $to } gesendet. Öffnen Sie ihn auf diesem Gerät, um eine neue Anmeldemethode einzurichten; er funktioniert einmal und läuft in einer Stunde ab.
msg-no-verified-email-title = Keine bestätigte E-Mail-Adresse
msg-no-verified-email = Ihr Konto hat keine bestätigte E-Mail-Adresse für einen Wiederherstellungslink. Wenden Sie sich an Ihre Administration: Sie kann prüfen, dass Sie es sind, und Ihnen einen Link senden.
msg-no-link-title = Kein Link gesendet
msg-step-expired-title = Anmeldeschritt abgelaufen
msg-step-expired = Dieser Anmeldeschritt ist abgelaufen oder wurde schon abgeschlossen. Gehen Sie zurück zur Anwendung und beginnen Sie neu.
msg-form-expired-title = Formular abgelaufen
msg-form-expired-signin = Das Formular ist abgelaufen. Gehen Sie zurück zur Anwendung und melden Sie sich erneut an.
msg-request-expired-title = Anmeldelink abgelaufen
msg-request-expired = Diese Anmeldeanfrage ist abgelaufen oder wurde schon benutzt. Gehen Sie zurück zur Anwendung und beginnen Sie neu.
msg-access-denied = Zugriff verweigert
msg-not-signed-out = Nicht abgemeldet
msg-form-expired = Das Formular ist abgelaufen. Bitte versuchen Sie es erneut.
msg-signed-out-title = Abgemeldet
msg-signed-out = Sie sind von { $brand } abgemeldet.
msg-sign-in-again = Erneut anmelden
msg-cannot-sign-in = Anmeldung nicht möglich
msg-cannot-sign-out = Abmeldung nicht möglich
msg-nothing-here = An dieser Adresse gibt es nichts.
msg-form-expired-login = Das Formular ist abgelaufen. Bitte melden Sie sich erneut an.
mfa-code-texted = Wir haben einen Code per SMS an { $to } gesendet. Er läuft in { $minutes } Minuten ab.
mfa-code-emailed = Wir haben einen Code per E-Mail an { $to } gesendet. Er läuft in { $minutes } Minuten ab.

## E-Mails und SMS
mail-code-title = Ihr Bestätigungscode
mail-code-subject = Ihr Bestätigungscode für { $host }: { $code }
mail-code-intro = Ihr Bestätigungscode für { $host } lautet:
mail-code-setup = Geben Sie ihn dort ein, wo Sie Anmeldecodes einrichten, um zu zeigen, dass diese Adresse Ihnen gehört.
mail-code-login = Geben Sie ihn ein, um die Anmeldung abzuschließen.
mail-code-expiry = Er läuft in { $minutes } Minuten ab und funktioniert einmal.
mail-code-warning = Wenn Sie ihn nicht angefordert haben, kennt vielleicht jemand Ihr Passwort: Ändern Sie es, und geben Sie diesen Code nicht weiter.
sms-code = { $code } ist Ihr Bestätigungscode für { $host }. Er läuft in { $minutes } Minuten ab. Nicht weitergeben.
mail-recover-subject = Anmeldung bei { $host } wiederherstellen
mail-reset-subject = Passwort für { $host } zurücksetzen
mail-recover-asked = Jemand möchte den zweiten Anmeldeschritt Ihres Kontos bei { $host } wiederherstellen.
mail-reset-asked = Jemand möchte das Passwort Ihres Kontos bei { $host } zurücksetzen.
mail-issued-by = Eine Administratorin oder ein Administrator ({ $by }) hat diesen Link ausgestellt.
mail-recover-open = Öffnen Sie diesen Link, um eine neue Methode zur Bestätigung einzurichten (Sie brauchen Ihr Passwort):
mail-reset-open = Öffnen Sie diesen Link, um ein neues Passwort zu wählen:
mail-recover-button = Neue Anmeldemethode einrichten
mail-reset-button = Neues Passwort wählen
mail-copy-address = Oder kopieren Sie diese Adresse in Ihren Browser:
mail-link-expiry = Der Link funktioniert einmal und läuft in { $minutes } Minuten ab.
mail-link-ignore = Wenn Sie das nicht angefordert haben, ignorieren Sie diese Nachricht: Nichts ändert sich, solange der Link nicht benutzt wird. Passiert es öfter, sagen Sie es Ihrer Administration.
mail-invite-subject = Ihr Konto bei { $host } ist bereit
mail-invite-made-by = { $by } hat für Sie ein Konto bei { $host } angelegt.
mail-invite-made = Die Administration hat für Sie ein Konto bei { $host } angelegt.
mail-invite-open = Öffnen Sie diesen Link, um Ihr Passwort zu wählen:
mail-invite-button = Passwort wählen
mail-invite-expiry = Der Link funktioniert einmal und läuft in { $days ->
    [one] einem Tag
   *[other] { $days } Tagen
} ab. Nach dem Passwort werden Sie eventuell gebeten, einen zweiten Anmeldeschritt einzurichten (eine Authenticator-App oder einen Passkey).
mail-invite-ignore = Wenn Sie das nicht erwartet haben, ignorieren Sie diese Nachricht: Das Konto bleibt unbenutzbar, bis der Link benutzt wird.
mail-alert-what = Was
mail-alert-when = Wann
mail-alert-from = Von
mail-alert-account = Konto
mail-alert-you = Wenn Sie das waren, ist nichts zu tun.
mail-alert-not-you = Wenn nicht, ist vielleicht jemand in Ihrem Konto:
mail-alert-reset-at = Setzen Sie jetzt Ihr Passwort zurück unter
mail-alert-reset-link = Setzen Sie jetzt Ihr Passwort zurück
mail-alert-tell = und informieren Sie Ihre Administration.
alert-factor-added-subject = Eine Anmeldemethode wurde hinzugefügt
alert-factor-added-headline = Ihrem Konto wurde eine neue Methode zur Bestätigung hinzugefügt.
alert-factor-removed-subject = Eine Anmeldemethode wurde entfernt
alert-factor-removed-headline = Aus Ihrem Konto wurde eine Methode zur Bestätigung entfernt.
alert-device-trusted-subject = Einem Gerät wird vertraut
alert-device-trusted-headline = Einem Gerät wird jetzt vertraut: Es wird eine Weile nicht nach Ihrem zweiten Schritt gefragt.
alert-recovery-used-subject = Ihr Konto wurde wiederhergestellt
alert-recovery-used-headline = Ihr Konto wurde mit einem Wiederherstellungslink wiederhergestellt, und eine neue Anmeldemethode wurde eingerichtet.
alert-password-changed-subject = Ihr Passwort wurde geändert
alert-password-changed-headline = Das Passwort Ihres Kontos wurde geändert. Alle anderen Sitzungen wurden abgemeldet.
alert-locked-out-subject = Anmeldung nach Fehlversuchen gesperrt
alert-locked-out-headline = Die Anmeldung bei Ihrem Konto wurde nach mehreren falschen Versuchen angehalten.

## Geräte
device-unknown = Unbekanntes Gerät
device-browser-on = { $browser } auf { $system }
device-some-browser-on = Ein Browser auf { $system }

## Ablehnungen
refuse-form-unreadable = Das Formular konnte nicht gelesen werden. Bitte versuchen Sie es erneut.
refuse-factor-not-offered = { $factor } wird für diese Anmeldung nicht angeboten.
refuse-factor-before-step = Eine Methode kann erst hinzugefügt werden, wenn der zweite Schritt dieser Anmeldung abgeschlossen ist.
refuse-factor-not-here = { $factor ->
    [totp] Eine Authenticator-App
    [passkey] Ein Passkey
    [sms] Codes per SMS
    [email] Codes per E-Mail
   *[other] Backup-Codes
} kann in diesem Schritt nicht eingerichtet werden.
refuse-no-email = Ihr Konto hat keine E-Mail-Adresse, an die Codes gesendet werden können.
refuse-no-postpone = Die Einrichtung eines zweiten Schritts kann nicht verschoben werden.
refuse-trust-token = Der Link zum Vertrauen des Geräts ist ungültig, abgelaufen oder schon benutzt.
refuse-own-session = Das ist die Sitzung, die Sie gerade benutzen: Melden Sie sich stattdessen ab.
refuse-no-factor-enrolled = Es ist kein zweiter Schritt eingerichtet; melden Sie sich erneut mit Ihrem Passwort an.
refuse-current-password = Das aktuelle Passwort stimmt nicht.
refuse-new-passwords-differ = Die beiden neuen Passwörter stimmen nicht überein.
refuse-passwords-differ = Die beiden Passwörter stimmen nicht überein.
refuse-password-wrong = Das Passwort stimmt nicht.
refuse-password-length = Passwörter sind 12 bis 128 Zeichen lang.
refuse-totp-exists = Eine Authenticator-App ist schon eingerichtet; entfernen Sie sie zuerst.
refuse-backup-primary = Backup-Codes sind der Weg zurück ins Konto, keine bevorzugte Methode.
refuse-backup-off = Backup-Codes sind ausgeschaltet.
refuse-devices-off = Vertrauenswürdige Geräte sind ausgeschaltet.
refuse-name-length = Namen haben höchstens 64 Zeichen, ohne Steuerzeichen.
refuse-passkeys-max = Sie haben schon { $count } Passkeys; entfernen Sie zuerst einen.
refuse-passkey-registration-expired = Die Registrierung des Passkeys ist abgelaufen oder wurde schon benutzt; beginnen Sie von vorn.
refuse-passkey-known = Dieser Passkey ist schon registriert.
refuse-no-passkey = Für dieses Konto ist kein Passkey registriert.
refuse-passkey-challenge-expired = Die Passkey-Anfrage ist abgelaufen oder wurde schon benutzt; versuchen Sie es erneut.
refuse-recovery-off = Die Wiederherstellung per E-Mail ist hier ausgeschaltet. Wenden Sie sich an Ihre Administration, um wieder hineinzukommen.
refuse-recovery-no-factor = Hier kann kein zweiter Schritt eingerichtet werden; bitten Sie Ihre Administration um Hilfe.
refuse-phone-empty = Geben Sie eine Telefonnummer mit Ländervorwahl ein, etwa +49 30 1234567.
refuse-phone-country = Beginnen Sie die Nummer mit + und der Ländervorwahl, etwa +49 30 1234567.
refuse-phone-invalid = Das ist keine Telefonnummer.
refuse-phone-plan = Diese Nummer gibt es im Nummernplan ihres Landes nicht.
refuse-phone-country-closed = An Nummern mit +{ $code } können hier keine SMS gesendet werden.
refuse-email-long = Diese E-Mail-Adresse ist zu lang.
refuse-email-invalid = Das ist keine E-Mail-Adresse.
limit-code-resend = Bitte warten Sie, bevor Sie einen weiteren Code anfordern.
limit-code-account = Es wurden zu viele Codes an dieses Konto gesendet. Versuchen Sie es später erneut.
limit-code-destination = Es wurden zu viele Codes an dieses Ziel gesendet. Versuchen Sie es später erneut.
limit-code-client = Von dieser Adresse wurden zu viele Codes angefordert. Versuchen Sie es später erneut.
limit-sms-all = SMS sind für eine Weile angehalten. Melden Sie sich anders an oder versuchen Sie es später erneut.
limit-code-emails-all = Code-E-Mails sind für eine Weile angehalten. Melden Sie sich anders an oder versuchen Sie es später erneut.
limit-link-resend = Gerade wurde ein Link gesendet. Bitte warten Sie eine Minute, bevor Sie erneut fragen.
limit-link-destination = Für diese Adresse wurden zu viele Links angefordert. Versuchen Sie es später erneut.
limit-link-client = Von dieser Adresse wurden zu viele Links angefordert. Versuchen Sie es später erneut.
limit-emails-all = E-Mails sind für eine Weile angehalten. Versuchen Sie es später erneut oder fragen Sie Ihre Administration.

## Administration: navigation, overview, users
adm-title = Administration
adm-nav-overview = Übersicht
adm-nav-users = Benutzer
adm-nav-apps = Anwendungen
adm-nav-stats = MFA-Dashboard
adm-nav-audit = Audit-Log
adm-nav-settings = Anmeldeeinstellungen
adm-nav-plugins = Selektor-Plugins
adm-nav-webhooks = Webhooks
adm-nav-account = Ihr Konto
adm-home-second-step = Zweiter Schritt
adm-home-adoption = { $enrolled } von { $users } aktiven Benutzern haben einen zweiten Schritt eingerichtet.
adm-home-day = Die letzten 24 Stunden
adm-home-sign-ins = Anmeldungen
adm-home-failures = Fehlversuche (Passwort oder zweiter Schritt)
adm-home-lockouts = Sperren
adm-home-recoveries = Wiederhergestellte Konten
adm-home-more = Tag für Tag im MFA-Dashboard; für 7 und 30 Tage und je Anwendung in der API
adm-users-title = Benutzer
adm-users-find = Suche nach Benutzername, E-Mail oder Name
search = Suchen
adm-users-count = { $count ->
        [one] 1 Benutzer.
       *[other] { $count } Benutzer.
    }
adm-users-matching = { $count ->
        [one] 1 Benutzer
       *[other] { $count } Benutzer
    } passend zu „{ $q }“.
adm-col-user = Benutzer
adm-col-email = E-Mail
adm-col-groups = Gruppen
adm-col-last-sign-in = Letzte Anmeldung
adm-col-state = Zustand
adm-badge-admin = Admin
adm-badge-verified = bestätigt
adm-badge-on = An
adm-badge-none = Keiner
adm-never = nie
adm-badge-disabled = deaktiviert
adm-badge-locked = gesperrt
adm-badge-invited = eingeladen
adm-state-active = aktiv
adm-pages = Seiten
adm-previous = Zurück
adm-next = Weiter
adm-page-of = Seite { $page } von { $total }
adm-invite-h = Benutzer einladen
adm-invite-intro = Das Konto wird jetzt angelegt; die Person wählt ihr Passwort über einen einmaligen Link, meldet sich dann an und richtet einen zweiten Schritt ein, wie die Richtlinie es verlangt.
adm-username = Benutzername
adm-display-name = Anzeigename
adm-groups-commas = Gruppen (durch Kommas getrennt)
adm-invite-days = Der Link gilt (Tage, 1 bis 14)
adm-invite-email = Den Link an diese Adresse senden
adm-invite-submit = Einladen

## Administration: one user
adm-user-is-admin = Administrator
adm-user-last-sign-in = letzte Anmeldung
adm-user-disabled-note = Dieses Konto ist deaktiviert: Es kann sich nicht anmelden.
adm-user-recovery-link-h = Wiederherstellungslink
adm-shown-once = Nur einmal angezeigt.
adm-user-recovery-link-text = Die Person öffnet ihn, meldet sich mit ihrem Passwort an, richtet einen neuen zweiten Schritt ein und hat erst dann eine Sitzung.
adm-user-invitation-link-h = Einladungslink
adm-user-invitation-link-text = Die Person öffnet ihn und wählt ein Passwort; niemand sonst sieht es je.
adm-user-pending-h = Einladung noch nicht angenommen
adm-user-pending-text = Dieses Konto hat kein Passwort: Es kann sich erst anmelden, wenn die Person ihre Einladung öffnet.
adm-user-valid-days = Gültig für (Tage, 1 bis 14)
adm-user-email-too = Auch per E-Mail an die Person senden
adm-user-reinvite = Neue Einladung erstellen (der alte Link funktioniert dann nicht mehr)
adm-user-new-codes-h = Neue Backup-Codes
adm-user-methods-h = Anmeldemethoden
adm-user-no-second-step = Kein zweiter Schritt eingerichtet.
adm-since = seit { $date }
adm-reason-audit = Grund (für das Audit-Log)
adm-user-remove-factor-confirm = Entfernen: Alle Sitzungen und vertrauenswürdigen Geräte dieser Person enden
adm-remove = Entfernen
adm-user-backup-left = { $count ->
        [one] 1 unbenutzter Backup-Code.
       *[other] { $count } unbenutzte Backup-Codes.
    }
adm-user-new-codes = Neue Backup-Codes erstellen
adm-user-reset-confirm = Alle Methoden entfernen: Die Person richtet bei der nächsten Anmeldung eine ein
adm-user-reset = Zweiten Schritt zurücksetzen
adm-user-help-h = Zurück ins Konto helfen
adm-user-help-text = Statt einer Sitzung: ein einmaliger Link, mit dem die Person nur einen neuen zweiten Schritt einrichten kann.
adm-reason-required = Grund (Pflicht, wird im Audit-Log festgehalten)
adm-user-link-hours = Läuft ab in (Stunden, höchstens 24)
adm-user-link-email = Auch an die bestätigte Adresse senden
adm-user-make-link = Wiederherstellungslink erstellen
adm-user-locked-until = Nach Fehlversuchen gesperrt bis { $date }.
adm-unlock = Entsperren
adm-sessions-h = Sitzungen
adm-user-no-sessions = Nirgends angemeldet.
adm-from-ip = von { $ip }
adm-last-seen = zuletzt gesehen { $date }
adm-session-second-step = zweiter Schritt: { $how }
adm-end = Beenden
adm-user-end-all-confirm = Überall abmelden
adm-user-end-all = Alle Sitzungen beenden
adm-user-devices-h = Vertrauenswürdige Geräte
adm-none = Keine.
adm-stop-trusting = Nicht mehr vertrauen
adm-groups-h = Gruppen
adm-user-no-groups = In keiner Gruppe.
adm-user-take-out = Herausnehmen
adm-user-add-group = Zu Gruppe hinzufügen
adm-add = Hinzufügen
adm-account-h = Konto
adm-user-enable = Konto aktivieren
adm-user-disable-confirm = Deaktivieren: Alle Sitzungen, Tokens und vertrauenswürdigen Geräte enden
adm-user-disable = Konto deaktivieren
adm-user-events-h = Letzte Ereignisse
adm-nothing-yet = Noch nichts.
adm-col-when = Wann
adm-col-event = Ereignis
adm-col-detail = Einzelheiten
adm-badge-by-admin = durch Admin

## Administration: applications
adm-apps-register = Anwendung registrieren
adm-apps-none = Noch keine Anwendungen.
adm-col-name = Name
adm-col-protocol = Protokoll
adm-col-identifier = Client-ID oder Entity-ID
adm-col-plugins = Plugins
adm-none-lower = keine
adm-apps-urls = Weiterleitungs- und Dienst-URLs müssen https sein, oder http auf einem Loopback-Host.
adm-apps-urls-dev = Weiterleitungs- und Dienst-URLs müssen https sein (oder http: Dieser Server läuft im Entwicklungsmodus).
adm-apps-client-type = Client-Typ
adm-apps-confidential = Vertraulich: ein Server, der ein Client-Secret aufbewahrt
adm-apps-public = Öffentlich: eine Single-Page- oder native App, kein Secret, PKCE Pflicht
adm-apps-client-id-generated = Client-ID (leer: wird erzeugt)
adm-apps-register-submit = Registrieren
adm-apps-name = Name (für Benutzer sichtbar)
adm-apps-redirects = Weiterleitungs-URIs, eine pro Zeile (exakter Vergleich)
adm-apps-logouts = Weiterleitungs-URIs nach dem Abmelden, eine pro Zeile
adm-apps-scopes = Weitere Scopes, durch Leerzeichen getrennt, außer
adm-apps-client-credentials = Der Client darf Token in eigenem Namen anfordern (Client-Credentials-Grant: ein Dienst ohne Benutzer; nur vertrauliche Clients)
adm-saml-metadata = Die Metadaten des Service Providers (die Felder unten haben Vorrang)
adm-saml-file = Metadatendatei (XML)
adm-saml-paste = oder hier einfügen
adm-saml-entity = Entity-ID
adm-saml-acs = Assertion-Consumer-Service-URLs (HTTP-POST), eine pro Zeile; die erste ist der Standard
adm-saml-slo = Single-Logout-URL
adm-saml-cert = Das Signaturzertifikat des SP (PEM oder Base64)
adm-saml-signed = Anfragen müssen signiert sein
adm-saml-signed-default = Wie in den Metadaten (sonst nein)
adm-yes = Ja
adm-no = Nein
adm-saml-nameid = NameID-Format
adm-saml-nameid-default = Wie in den Metadaten (sonst persistent)
adm-saml-sign = Was der IdP signiert
adm-saml-sign-what = { $what ->
        [assertion] Die Assertion
        [response] Die Antwort
       *[other] Die Antwort und die Assertion
    }
adm-saml-attrs = Attribute (leer: email, name, username und groups), eines pro Zeile als
adm-saml-idp-initiated = IdP-initiierte Anmeldung erlauben (unaufgeforderte Antworten)
adm-saml-relay = Standard-RelayState für IdP-initiierte Anmeldung

## Administration: an application, sign-in settings
adm-policy = { $p ->
        [disabled] Aus
        [optional] Nur für Benutzer, die einen eingerichtet haben
        [any] Pflicht: jede Methode
        [otp] Pflicht: ein Code oder ein Passkey
        [passkey] Pflicht: ein Passkey (phishing-resistent)
       *[inherit] Wie für alle
    }
adm-factor = { $f ->
        [totp] Authenticator-App (TOTP)
        [passkey] Passkeys
        [sms] Codes per SMS
        [email] Codes per E-Mail
       *[other] Backup-Codes
    }
adm-alert = { $a ->
        [alert_factor_changes] eine Anmeldemethode hinzugefügt oder entfernt wird
        [alert_new_trusted_device] einem Gerät vertraut wird
        [alert_recovery_used] das Konto wiederhergestellt wird
        [alert_password_changes] sich das Passwort ändert
       *[alert_lockout] die Anmeldung nach Fehlversuchen gesperrt wird
    }
adm-app-registered = registriert { $date }
adm-app-secret-h = Client-Secret
adm-app-secret-text = Tragen Sie es jetzt in die Konfiguration der Anwendung ein.
adm-app-config-h = Für die Konfiguration der Anwendung
adm-app-issuer = Aussteller (Issuer)
adm-app-discovery = Discovery
adm-app-client-id = Client-ID
adm-app-public = Öffentlich: kein Secret, PKCE Pflicht
adm-app-confidential = Vertraulich:
adm-app-rotate-confirm = Das Secret jetzt ersetzen: Das alte funktioniert sofort nicht mehr
adm-app-rotate = Client-Secret erneuern
adm-app-registration-h = Registrierung
save = Speichern
adm-app-sp-config-h = Für die Konfiguration des Service Providers
adm-app-idp-metadata = IdP-Metadaten
adm-app-idp-entity = IdP-Entity-ID
adm-app-sso = Single Sign-on
adm-app-policy-label = Richtlinie (die Mindestanforderungen der Gruppen gelten weiter)
adm-app-reauth = Erneut fragen nach (Minuten; 0 = wie für alle)
adm-app-trusted = Vertrauenswürdige Geräte dürfen den zweiten Schritt überspringen
adm-app-methods = Methoden, die diese App annimmt (keine angekreuzt: jede für alle erlaubte Methode)
adm-app-plugins-none = Dieser App ist keines zugewiesen (ein globales kann trotzdem laufen).
adm-on-error = bei Fehler: { $how }
adm-app-no-plugins = Noch keine Plugins hochgeladen.
adm-app-upload-one = Eines hochladen
adm-plugin = Plugin
adm-mode = Modus
adm-mode-shadow = Schatten: Entscheidungen protokolliert, nicht verwendet
adm-mode-active = Aktiv: entscheidet den zweiten Schritt dieser App
adm-mode-disabled = Deaktiviert
adm-if-fails = Wenn das Plugin fehlschlägt
adm-fail-secure = Sicher scheitern: den stärksten Schritt verlangen
adm-fail-open = Offen scheitern: die statische Richtlinie verwenden
adm-assign = Zuweisen
adm-delete-h = Löschen
adm-app-delete-confirm = { $name } löschen: Anmeldungen hören auf, Tokens und Plugin-Zuweisungen werden entfernt
adm-app-delete = Anwendung löschen
adm-settings-intro = Änderungen gelten ab der nächsten Anmeldung auf jedem Knoten.
adm-settings-everyone = Alle
adm-settings-methods = Methoden, die Benutzer einrichten dürfen
adm-settings-no-sms = (kein SMS-Versand konfiguriert: nicht angeboten)
adm-settings-no-email = (kein E-Mail-Versand konfiguriert: nicht angeboten)
adm-settings-enforce = Alle müssen einen zweiten Schritt einrichten, auch wo er optional ist
adm-settings-grace = Tage, die Benutzer die Einrichtung aufschieben dürfen
adm-settings-reauth = Den zweiten Schritt erneut verlangen nach (Minuten, 0 = einmal pro Sitzung)
adm-settings-trusted = Vertrauenswürdige Geräte gelten (Tage, 0 = aus)
adm-settings-backup = Backup-Codes pro Satz (0 = aus)
adm-settings-recovery-h = Der Weg zurück ins Konto, und Warnungen
adm-settings-by-email = Benutzer dürfen per E-Mail
adm-settings-self-recovery = einen verlorenen zweiten Schritt wiederherstellen (sonst fragen sie die Administration)
adm-settings-self-reset = ein vergessenes Passwort zurücksetzen
adm-settings-email-when = Benutzer per E-Mail informieren, wenn
adm-settings-no-transport = Es ist kein E-Mail-Versand konfiguriert: Nichts davon wird gesendet, bis einer eingerichtet ist.
adm-settings-groups-intro = Mitglieder erhalten die strengste Mindestanforderung ihrer Gruppen.
adm-members = { $count ->
        [one] 1 Mitglied
       *[other] { $count } Mitglieder
    }
adm-minimum = Mindestens
adm-no-minimum = Keine Mindestanforderung
adm-new-group = Neue Gruppe
adm-add-group = Gruppe hinzufügen
adm-settings-apps-intro = Jede Anwendung kann mehr verlangen als die Einstellungen oben; das ändern Sie auf ihrer Seite.
adm-ask-again-after = erneut nach { $minutes } Min.
adm-no-trusted-devices = keine vertrauenswürdigen Geräte

## Administration: audit log, MFA dashboard
adm-audit-user = Benutzer (Benutzername oder ID)
adm-audit-app = Anwendungs-ID
adm-audit-from = Von (Tag, UTC)
adm-audit-to = Bis (Tag, UTC)
adm-filter = Filtern
adm-export-csv = Als CSV exportieren
adm-export-json = Als JSON exportieren
adm-no-entries = Keine Einträge.
adm-col-by = Durch
adm-col-app = App
adm-col-address = Adresse
adm-older = Ältere Einträge
adm-stats-per-day = Zahlen pro Tag (UTC) für die letzten { $days } Tage.
adm-figures = Zahlen
adm-day = Tag
adm-stats-with-step = Mit zweitem Schritt
adm-stats-rate-note = Gezählt nach den Methoden, die Benutzer jetzt haben: Eine inzwischen entfernte Methode zählt auch für die Tage davor nicht mehr.
adm-stats-daily-h = Anmeldungen pro Tag
adm-stats-highest = höchster Tag: { $count }
adm-runs = Läufe
adm-failed = Fehlgeschlagen
adm-stats-no-plugin = In den letzten { $days } Tagen lief kein Plugin.
chart-bars-summary = { $total } in { $days } Tagen; die meisten am { $day } ({ $most }).
chart-bars-none = Keine in { $days } Tagen.
chart-line-summary = Von { $from } auf { $to } in { $days } Tagen.
chart-no-data = Keine Daten.
chart-rate = Benutzer mit zweitem Schritt
chart-sign-ins = Anmeldungen
chart-challenges = Abfragen des zweiten Schritts
chart-failures = Fehlgeschlagene zweite Schritte
chart-lockouts = Sperren
chart-recoveries = Kontowiederherstellungen
chart-factors = Verwendete Anmeldemethoden (Benutzer)
chart-backup-codes = Unbenutzte Backup-Codes
chart-plugin-runs = { $count } Läufe, { $failed } fehlgeschlagen
chart-plugins = Läufe der Selektor-Plugins, letzte { $days } Tage

## Administration: plugins list, webhooks
adm-plugins-intro = Ein Selektor-Plugin entscheidet bei jeder Anmeldung, wie streng der zweite Schritt ist. Es kann eine Anmeldung nur strenger machen als die Einstellungen, nie schwächer. Sein Vertrag:
adm-plugins-uploaded = Hochgeladen
adm-plugins-none = Noch keine Plugins. Laden Sie unten eine Komponente hoch; Beispiele liegen in
adm-not-assigned = nicht zugewiesen
adm-world = Welt { $world }
adm-uploaded-on = hochgeladen { $date }
adm-plugins-upload-h = Plugin hochladen
adm-plugins-upload-text = Eine WebAssembly-Komponente (bis { $size }). Sie wird jetzt kompiliert und gegen ihre Welt geprüft; derselbe Name noch einmal ergibt eine neue Version. Eine neue Version läuft nirgends, bis Sie sie zuweisen.
adm-plugins-component = Komponente (.wasm)
adm-plugins-name-help = Kleinbuchstaben, Ziffern, - und _.
adm-description = Beschreibung
adm-limits = Grenzen
adm-fuel = Fuel (Anweisungen pro Anmeldung)
adm-memory = Speicher (MiB)
adm-time-limit = Zeitlimit (ms)
adm-upload = Hochladen
adm-webhooks-intro = Audit-Ereignisse gehen an diese Endpunkte, signiert nach Standard Webhooks und mit wachsenden Pausen wiederholt
adm-webhooks-secret-h = Signaturschlüssel für { $id }
adm-webhooks-secret-text = Richten Sie den Empfänger damit ein.
adm-webhooks-subscribers = Abonnenten
adm-none-yet = Noch keine.
adm-badge-on-lower = an
adm-badge-off-lower = aus
adm-webhooks-events = Ereignisse:
adm-webhooks-rotating = der vorige Schlüssel signiert ebenfalls bis { $date }
adm-webhooks-test = Testereignis senden
adm-turn-off = Ausschalten
adm-turn-on = Einschalten
adm-webhooks-rotate-confirm = Neuer Schlüssel (der alte gilt noch 24 Stunden)
adm-webhooks-rotate = Schlüssel erneuern
adm-webhooks-remove-confirm = Diesen Abonnenten entfernen
adm-webhooks-new-h = Abonnenten registrieren
adm-webhooks-endpoint = Endpunkt (https://)
adm-webhooks-events-label = Ereignisse (Namen oder Präfixe, durch Leerzeichen getrennt; leer = alle), etwa

## Administration: one plugin version
adm-plugin-about = Über diese Version
adm-plugin-world = Welt
adm-plugin-size = Größe
adm-plugin-uploaded = Hochgeladen
adm-plugin-recent = In letzten Anmeldungen
adm-plugin-not-run = Noch in keiner aufgezeichneten Anmeldung gelaufen.
adm-plugin-evaluations = Auswertungen
adm-plugin-errors = Fehler
adm-plugin-time = Zeit
adm-plugin-where = Wo es läuft
adm-plugin-where-text = Das aktive Plugin einer Anwendung ersetzt für diese Anwendung das globale. Der Schattenmodus läuft neben dem aktiven Plugin und wird aufgezeichnet, nie durchgesetzt: So sehen Sie, was ein Plugin tun würde, bevor Sie es aktivieren.
adm-plugin-not-assigned = Nicht zugewiesen: Es läuft in keiner Anmeldung.
adm-plugin-for = Für
adm-plugin-shadow = Schatten: aufzeichnen, nicht durchsetzen
adm-plugin-active = Aktiv: durchsetzen
adm-plugin-if-fails = Wenn es fehlschlägt (Trap, Fuel, Zeit, Speicher, ungültige Entscheidung)
adm-plugin-fail-secure = Einen zweiten Schritt verlangen (sicher scheitern)
adm-plugin-fail-open = Die Richtlinie der Einstellungen behalten (offen scheitern)
adm-plugin-save-assignment = Zuweisung speichern
adm-plugin-test-h = Testen
adm-plugin-test-text = Führt diese Version mit einem Anmeldekontext aus und zeigt Entscheidung, Log, Fuel und Zeit. Nichts wird aufgezeichnet oder durchgesetzt.
adm-plugin-decision = Entscheidung
adm-plugin-failed = Fehlgeschlagen: { $why }
adm-plugin-logs-dropped = { $count ->
        [one] 1 Log-Zeile verworfen
       *[other] { $count } Log-Zeilen verworfen
    }
adm-plugin-log = Log
adm-plugin-recorded = Eine aufgezeichnete Anmeldung
adm-plugin-test-recorded = Mit dieser Anmeldung testen
adm-plugin-context = Anmeldekontext (JSON)
adm-plugin-test-context = Mit diesem Kontext testen
adm-plugin-replay = Wiederholen
adm-plugin-replay-text = Führt diese Version mit den aufgezeichneten Kontexten letzter Anmeldungen aus und vergleicht, was sie durchgesetzt hätte, mit dem, was durchgesetzt wurde.
adm-plugin-replayed = { $count ->
        [one] 1 Anmeldung wiederholt
       *[other] { $count } Anmeldungen wiederholt
    }
adm-plugin-differ = { $count } würden abweichen
adm-plugin-replay-failed = { $count } fehlgeschlagen
adm-plugin-replay-incomplete = Die Zeit ist abgelaufen: { $count } der { $found } gefundenen Anmeldungen wurden wiederholt, die neuesten zuerst. Wiederholen Sie weniger oder geben Sie dieser Version ein kürzeres Zeitlimit.
adm-plugin-sign-in = Anmeldung
adm-plugin-enforced = Durchgesetzt
adm-plugin-this-version = Diese Version
adm-plugin-replay-last = Zu wiederholende letzte Anmeldungen
adm-plugin-delete-text = Löscht diese Version. Abgelehnt, solange sie irgendwo zugewiesen ist. Ihre Einträge im Entscheidungslog werden mit gelöscht.

## Administration: Bestätigungen und Ablehnungen
notice-settings = Einstellungen gespeichert.
notice-group = Gruppe gespeichert.
notice-app = Anwendung gespeichert.
notice-app-created = Anwendung registriert. Geben Sie dem Service Provider die IdP-Angaben unten.
notice-app-removed = Anwendung gelöscht, mit ihren Berechtigungen und Plugin-Zuweisungen.
notice-uploaded = Plugin hochgeladen. Testen Sie es und lassen Sie es im Schattenmodus laufen, bevor Sie es aktivieren.
notice-assigned = Zuweisung gespeichert. Sie gilt ab der nächsten Anmeldung.
notice-unassigned = Zuweisung entfernt.
notice-deleted = Plugin-Version gelöscht.
notice-user = Erledigt. Die Änderung steht unten im Audit-Log dieser Person.
adm-saved = Gespeichert
adm-note-session-below-policy = Ihre Sitzung erfüllt die neue Richtlinie nicht mehr: Bestätigen Sie Ihren zweiten Schritt auf Ihrer Kontoseite, bevor Sie weitere Einstellungen ändern.
adm-note-backup-codes = Neue Backup-Codes. Geben Sie sie der Person jetzt: Sie werden nicht noch einmal angezeigt.
adm-note-recovery-link = Wiederherstellungslink erstellt; er funktioniert einmal, bis { $date }. Geben Sie ihn der Person über einen vertrauenswürdigen Weg.
adm-note-recovery-link-sent = Wiederherstellungslink erstellt; er funktioniert einmal, bis { $date }. Er wurde auch an die bestätigte Adresse der Person gesendet. Geben Sie ihn der Person über einen vertrauenswürdigen Weg.
adm-note-invitation = Einladung erstellt; sie funktioniert einmal, bis { $date }. Die Person wählt damit ein Passwort und meldet sich dann an.
adm-note-invitation-sent = Einladung erstellt; sie funktioniert einmal, bis { $date }. Sie wurde auch per E-Mail gesendet. Die Person wählt damit ein Passwort und meldet sich dann an.
adm-note-app-confidential = Anwendung registriert. Kopieren Sie das Client-Secret jetzt: Es wird nicht noch einmal angezeigt.
adm-note-app-public = Anwendung registriert. Sie ist ein öffentlicher Client: Sie meldet sich mit PKCE an, ohne Secret.
adm-note-new-secret = Neues Client-Secret. Kopieren Sie es jetzt: Es wird nicht noch einmal angezeigt, und das alte funktioniert nicht mehr.
adm-note-webhook-registered = Abonnent registriert. Geben Sie seinem Empfänger jetzt diesen Schlüssel: Er wird nicht noch einmal angezeigt.
adm-note-webhook-test = Ein webhook.test-Ereignis ist unterwegs; die Zustellungen stehen unten.
adm-note-webhook-rotated = Neuer Schlüssel, nur einmal angezeigt. Der alte signiert noch 24 Stunden daneben.
adm-scope-global = Jede Anwendung (global)
adm-warn-own-account = Ihr eigenes Konto hat noch { $factor ->
    [passkey] keinen Passkey
    [totp] keine Authenticator-App
   *[other] keinen zweiten Schritt
}, den die Richtlinie `{ $policy }` jetzt von Ihnen verlangt: Richten Sie ihn auf Ihrer Kontoseite ein, bevor Sie sich erneut anmelden oder Einstellungen ändern.
adm-err-confirm = Kreuzen Sie das Kästchen zur Bestätigung an.
adm-err-confirm-undo = Kreuzen Sie das Kästchen zur Bestätigung an: Das lässt sich nicht rückgängig machen.
adm-err-confirm-rotate = Kreuzen Sie das Kästchen zur Bestätigung an: Die App funktioniert erst wieder mit dem neuen Secret.
adm-err-confirm-delete-app = Kreuzen Sie das Kästchen zur Bestätigung an: Das Löschen einer App lässt sich nicht rückgängig machen.
adm-err-link-hours = Läuft ab in: eine ganze Zahl von Stunden, 1 bis 24.
adm-err-disable-self = Sie können Ihr eigenes Konto nicht deaktivieren.
adm-err-invite-days = Eine Einladung gilt 1 bis { $max } Tage.
adm-err-attribute = Attribute: `{ $line }` hat nicht die Form `SAML name = source`
adm-err-reauth-minutes = Erneut fragen nach: Geben Sie eine ganze Zahl von Minuten ein.
adm-err-component-size = Die Komponente ist größer als die Obergrenze für Uploads ({ $size }).
adm-err-no-component = Wählen Sie eine Komponentendatei (.wasm) zum Hochladen.
adm-err-decision-gone = Diese aufgezeichnete Anmeldung wird nicht mehr aufbewahrt.
adm-err-replay-last = Anzahl: Geben Sie eine Zahl von 1 bis 1000 ein.
adm-err-url-long = { $what } hat höchstens { $max } Bytes.
adm-err-url-relative = { $what } `{ $url }` ist keine absolute URL.
adm-err-url-fragment = { $what } `{ $url }` darf kein Fragment haben.
adm-err-url-http = { $what } `{ $url }`: http ist nur für Loopback-Hosts erlaubt.
adm-err-url-https = { $what } `{ $url }` muss https sein.
adm-err-redirect-required = Ein öffentlicher Client braucht mindestens eine Weiterleitungs-URI.
adm-err-redirect-many = Höchstens { $max } Weiterleitungs-URIs jeder Art.
adm-err-scopes-many = Höchstens { $max } weitere Scopes mit 1 bis 128 Zeichen.
adm-err-scope = Ungültiger Scope `{ $scope }`.
adm-err-app-name = Die App braucht einen Namen mit 1 bis 128 Zeichen.
adm-err-client-id = Client-IDs haben 1 bis 128 sichtbare ASCII-Zeichen ohne `:`.
adm-err-client-id-taken = Die Client-ID `{ $id }` ist vergeben.
adm-err-client-id-uuid = Ein Client, dessen ID die Form einer Benutzer-ID (einer UUID) hat, kann den Client-Credentials-Grant nicht nutzen: Ein Token im eigenen Namen des Clients trägt die Client-ID als Subjekt.
adm-err-entity-taken = Die Entity-ID `{ $id }` ist schon registriert.
adm-err-self-disable = Ihr eigenes Konto können Sie nicht deaktivieren; das kann eine andere Administratorin oder ein anderer Administrator.
adm-err-self-mfa = Ihre eigenen Anmeldemethoden verwalten Sie auf Ihrer Kontoseite, die dafür einen frischen zweiten Faktor verlangt, nicht mit den Administrationswerkzeugen.
adm-user-self-mfa = Das ist Ihr eigenes Konto: Ihre Anmeldemethoden verwalten Sie auf Ihrer Kontoseite.
adm-err-public-no-secret = Ein öffentlicher Client hat kein Secret: Er weist sich mit PKCE aus.
adm-err-cc-public = Der Client-Credentials-Grant ist für vertrauliche Clients: Ein öffentlicher Client hat kein Secret, mit dem er sich ausweisen könnte.
adm-err-secret-raced = Das Secret wurde gerade von jemand anderem geändert: Verwenden Sie das dort angezeigte, oder erneuern Sie es noch einmal.
adm-err-expires-in = expires_in ist in Sekunden, von 60 bis { $max } (24 Stunden).
adm-err-account-disabled = Das Konto ist deaktiviert; aktivieren Sie es zuerst.
adm-err-no-verified-email = Die Person hat keine bestätigte E-Mail-Adresse, an die er gesendet werden kann.
adm-err-reason-required = Ein Grund ist Pflicht (er kommt ins Audit-Log).
adm-err-reason-long = Der Grund ist eine Zeile mit höchstens 500 Zeichen.
adm-err-plugin-name = Der Name hat 1 bis 64 Zeichen: Kleinbuchstaben, Ziffern, '-' und '_'.
adm-err-plugin-description = Die Beschreibung ist länger als 500 Zeichen.
adm-err-plugin-size = Die Komponente hat { $size } Bytes; die Obergrenze ist { $max }.
adm-err-plugin-mode = Der Modus ist active, shadow oder disabled.
adm-err-plugin-scope = Keine App mit der ID `{ $id }` (`global` steht für jede App).
adm-err-plugin-on-error = on_error ist fail_secure oder fail_open.
adm-err-user-fields = E-Mail-Adressen haben höchstens 254 Zeichen und Anzeigenamen 128, ohne Steuerzeichen.
adm-err-user-exists = Den Benutzer `{ $name }` gibt es schon.
adm-err-invite-has-password = Diese Person hat schon ein Passwort gewählt: Senden Sie stattdessen einen Wiederherstellungslink.
adm-err-invite-no-email = Um die Einladung per E-Mail zu senden, geben Sie die E-Mail-Adresse der Person an.
adm-err-username = Benutzernamen haben 1 bis 64 Zeichen, ohne Leerzeichen am Rand.
adm-err-group-name = Gruppennamen haben 1 bis 128 Zeichen, ohne Leerzeichen am Rand.
adm-err-no-user = Kein Benutzer `{ $name }`.
adm-err-webhook-url = URL: eine https://-Adresse ohne Zugangsdaten darin (http:// nur mit delivery.allow_insecure_webhooks).
adm-err-webhook-url-long = URL: höchstens 2000 Zeichen, ohne #Fragment.
adm-err-webhook-events = Ereignisse: 1 bis 50 Ereignisnamen, Präfixe (`mfa.*`) oder `*`.
adm-err-webhook-event = Ereignisse: `{ $event }` ist kein Ereignisname, kein Präfix wie `mfa.*` und nicht `*`.
adm-err-webhook-description = Beschreibung: eine Zeile mit höchstens 200 Zeichen.
adm-err-webhook-url-required = Die URL ist Pflicht.
adm-err-policy-passkey-host = { $what } `{ $policy }` ist auf diesem Issuer nicht erfüllbar: Passkeys brauchen einen Domainnamen ({ $issuer }), also könnte sich niemand anmelden.
adm-err-policy-factor = { $what } `{ $policy }` braucht `{ $factor }` in mfa_allowed_factors (jetzt [{ $allowed }]), sonst könnte sich niemand anmelden, für den sie gilt.
adm-err-enforce-no-factor = mfa_enforce_enrollment braucht in mfa_allowed_factors eine Methode, die auf diesem Issuer funktioniert.
adm-err-app-factors = App `{ $app }`: allowed_factors [{ $factors }] lassen hier nichts übrig, das `{ $policy }` erfüllt, also könnte sich niemand bei ihr anmelden.
adm-err-reauth-range = reauth_interval_minutes liegt zwischen 0 und 525600.
adm-effect-denied = abgelehnt
adm-effect-factors = Methoden: { $factors }
adm-effect-no-trust = kein Überspringen mit vertrauenswürdigem Gerät

## Eine Anmeldemethode, wie man sie nennt
factor-name = { $f ->
    [totp] eine Authenticator-App
    [passkey] ein Passkey
    [sms] Codes per SMS
    [email] Codes per E-Mail
   *[other] Backup-Codes
}

## Weitere Ablehnungen
refuse-page-expired = Die Seite ist abgelaufen; laden Sie sie neu und versuchen Sie es erneut.
refuse-unreadable = Die Anfrage konnte nicht gelesen werden.
refuse-passkey-response = Der Browser hat keine verwendbare Passkey-Antwort geliefert ({ $why }).
refuse-unstorable = Der Text enthält ein Zeichen, das nicht gespeichert werden kann.
refuse-admins-only = Nur für die Administration.
refuse-passkeys-unavailable = Passkeys sind hier nicht verfügbar: { $why }
refuse-passkey-registration = Der Passkey konnte nicht registriert werden: { $why }
adm-err-form-unreadable = Das Formular konnte nicht gelesen werden: { $why }
adm-err-upload-unreadable = Der Upload konnte nicht gelesen werden: { $why }
adm-err-not-utf8 = `{ $field }` ist kein UTF-8-Text.
adm-err-policy = mfa_policy: `{ $value }` ist keine Richtlinie.
adm-err-number = { $field }: Geben Sie eine ganze Zahl ein.
adm-err-number-or-empty = { $field }: Geben Sie eine ganze Zahl ein oder lassen Sie das Feld leer.
adm-err-context = Der Kontext ist kein Anmeldekontext: { $why }
adm-err-date = { $field }: ein Datum wie 2026-12-01
adm-err-plugin-assigned = Das Plugin ist zugewiesen; entfernen Sie zuerst seine Zuweisungen.
adm-err-sp-cert-encoding = Das SP-Zertifikat ist weder PEM noch Base64-DER.
adm-err-sp-cert = Das SP-Zertifikat ist kein X.509-Zertifikat.
adm-err-sp-metadata = SP-Metadaten: { $why }

## Ablehnungen bei der SAML-Registrierung
adm-err-saml-entity-required = Eine Entity-ID ist nötig (oder SP-Metadaten, die eine enthalten).
adm-err-saml-entity = Die Entity-ID ist eine URI mit 1 bis 1024 Zeichen ohne Leerzeichen am Rand.
adm-err-saml-acs-required = Mindestens eine Assertion-Consumer-Service-URL ist nötig.
adm-err-saml-acs-index = ACS-Indizes müssen eindeutig sein.
adm-err-saml-acs-default = Nur ein ACS kann der Standard sein.
adm-err-saml-signed-needs-cert = Signierte Anfragen brauchen das Signaturzertifikat des SP.
adm-err-saml-nameid = Unbekanntes NameID-Format `{ $format }` (eines von { $known }).
adm-err-saml-attribute-name = Attributnamen haben 1 bis 256 Zeichen.
adm-err-saml-attribute-twice = Das Attribut `{ $name }` ist doppelt zugeordnet.
adm-err-saml-attribute-source = Attribut `{ $name }`: unbekannte Quelle `{ $source }` (eine von { $known }, oder static:VALUE).
adm-err-saml-sign = sign ist assertion, response oder both, nicht `{ $value }`.
adm-err-saml-relay = Der Standard-RelayState hat höchstens 80 Bytes.
