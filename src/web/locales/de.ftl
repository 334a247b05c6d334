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
