"""Independent receivers for the delivery tests, each a real implementation of the other side:

  smtp     aiosmtpd, a real SMTP server: optional STARTTLS (required) and AUTH
  twilio   an HTTP server that checks a Create Message request as Twilio documents it
  sns      moto's AWS server with IAM authentication on, so a Publish is only accepted
           when its SigV4 signature verifies
  webhook  an HTTP server that verifies Standard Webhooks signatures with the
           `standardwebhooks` library

Each prints `READY <port>` once listening, then one JSON line per message received, and
runs until its standard input closes (the test ended).
"""

import base64
import email
import email.policy
import json
import os
import socket
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_stdin_to_close():
    sys.stdin.read()
    os._exit(0)


def smtp():
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    user, password = os.environ.get("SMTP_USER"), os.environ.get("SMTP_PASSWORD")
    cert, key = os.environ.get("TLS_CERT"), os.environ.get("TLS_KEY")

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
            text = msg.get_body(preferencelist=("plain",))
            html = msg.get_body(preferencelist=("html",))
            emit({
                "mail_from": envelope.mail_from,
                "rcpt_tos": envelope.rcpt_tos,
                "subject": msg["subject"],
                "from": msg["from"],
                "reply_to": msg["reply-to"],
                "message_id": msg["message-id"],
                "text": text.get_content() if text else None,
                "html": html.get_content() if html else None,
                "tls": session.ssl is not None,
                "authenticated": bool(session.authenticated),
            })
            return "250 OK"

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == user
            and auth_data.password.decode() == password
        )
        # handled=False: aiosmtpd answers (235, or 535 on a failure) itself.
        return AuthResult(success=ok, handled=False)

    kwargs = {}
    if cert:
        import ssl

        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(cert, key)
        kwargs.update(tls_context=ctx, require_starttls=True)
    if user:
        kwargs.update(authenticator=authenticator, auth_required=True, auth_require_tls=bool(cert))
    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port, server_hostname="localhost", **kwargs)
    controller.start()
    print(f"READY {port}", flush=True)
    wait_for_stdin_to_close()


def twilio():
    sid, token = os.environ["TWILIO_SID"], os.environ["TWILIO_TOKEN"]
    fail_first = int(os.environ.get("FAIL_FIRST", "0"))
    seen = {"n": 0}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def answer(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length).decode()
            seen["n"] += 1
            if self.path != f"/2010-04-01/Accounts/{sid}/Messages.json":
                return self.answer(404, {"code": 20404, "message": "not found", "status": 404})
            expected = "Basic " + base64.b64encode(f"{sid}:{token}".encode()).decode()
            if self.headers.get("Authorization") != expected:
                return self.answer(401, {"code": 20003, "message": "Authenticate", "status": 401})
            if not self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
                return self.answer(400, {"code": 20001, "message": "form body expected", "status": 400})
            form = urllib.parse.parse_qs(raw, strict_parsing=True)
            if any(len(v) != 1 for v in form.values()) or "To" not in form or "Body" not in form:
                return self.answer(400, {"code": 21604, "message": "A 'To' and 'Body' are required", "status": 400})
            if ("From" in form) == ("MessagingServiceSid" in form):
                return self.answer(400, {"code": 21603, "message": "A 'From' or 'MessagingServiceSid' is required", "status": 400})
            if not form["To"][0].startswith("+"):
                return self.answer(400, {"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400})
            if seen["n"] <= fail_first:
                return self.answer(503, {"code": 20503, "message": "Service unavailable", "status": 503})
            fields = {k: v[0] for k, v in form.items()}
            emit({"path": self.path, "form": fields})
            self.answer(201, {"sid": "SM" + os.urandom(16).hex(), "status": "queued", "to": fields["To"], "body": fields["Body"]})

    serve(Handler)


def webhook():
    from standardwebhooks.webhooks import Webhook

    # The secrets to verify with: WEBHOOK_SECRET, or what the test PUTs to /_secrets (a JSON
    # list) once the server has issued them. Each message reports which of them verify it.
    secrets = {"list": [os.environ["WEBHOOK_SECRET"]] if os.environ.get("WEBHOOK_SECRET") else []}
    delay = int(os.environ.get("DELAY_MS", "0")) / 1000
    stall = {"left": int(os.environ.get("STALL_FIRST", "0"))}
    fail = {"left": int(os.environ.get("FAIL_FIRST", "0"))}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_PUT(self):
            length = int(self.headers.get("Content-Length", "0"))
            with lock:
                secrets["list"] = json.loads(self.rfile.read(length))
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            with lock:
                stalling = stall["left"] > 0
                stall["left"] -= 1
                failing = fail["left"] > 0
                fail["left"] -= 1
                known = list(secrets["list"])
            if stalling:
                # Hold the request unanswered, as a provider that hangs would.
                emit({"stalled": True, "id": headers.get("webhook-id")})
                import time

                time.sleep(120)
                return
            if delay:
                import time

                time.sleep(delay)
            signatures = len(headers.get("webhook-signature", "").split())
            verified_with, payload, error = [], None, None
            for i, secret in enumerate(known):
                try:
                    payload = Webhook(secret).verify(raw, headers)
                    verified_with.append(i)
                except Exception as e:  # a bad signature is an answer, not a crash
                    error = str(e)
            out = {
                "verified": bool(verified_with),
                "verified_with": verified_with,
                "signatures": signatures,
                "id": headers.get("webhook-id"),
                "path": self.path,
            }
            if verified_with:
                out["payload"] = payload
            else:
                out["error"] = error
            if failing:
                out["answered"] = 500
            emit(out)
            status = 500 if failing else (int(os.environ.get("RESPOND_STATUS", "204")) if verified_with else 401)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    serve(Handler)


def sns():
    # IAM authentication on: every request after the first three (which set up the user)
    # must carry a SigV4 signature that moto verifies with the user's secret key.
    os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "3"
    import boto3
    from moto.server import ThreadedMotoServer
    from moto.sns.models import sns_backends

    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    import contextlib

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    with contextlib.redirect_stdout(sys.stderr):  # it announces itself on stdout
        server.start()
    iam = boto3.client(
        "iam",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="setup",
        aws_secret_access_key="setup",
    )
    iam.create_user(UserName="portcullis")
    iam.put_user_policy(
        UserName="portcullis",
        PolicyName="publish",
        PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "sns:Publish", "Resource": "*"}],
        }),
    )
    key = iam.create_access_key(UserName="portcullis")["AccessKey"]
    print(f"READY {port} {key['AccessKeyId']} {key['SecretAccessKey']}", flush=True)

    def watch():
        import time

        reported = set()
        while True:
            for account, regions in list(sns_backends.items()):
                for region, backend in list(regions.items()):
                    for mid, sms in list(backend.sms_messages.items()):
                        if mid not in reported:
                            reported.add(mid)
                            number, message = sms[0], sms[1]
                            emit({"account": account, "region": region, "message_id": mid, "to": number, "message": message})
            time.sleep(0.05)

    threading.Thread(target=watch, daemon=True).start()
    wait_for_stdin_to_close()


def serve(handler):
    port = free_port()
    httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    print(f"READY {port}", flush=True)
    wait_for_stdin_to_close()


if __name__ == "__main__":
    if os.environ.get("RECEIVER_DEBUG"):
        import logging

        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
    {"smtp": smtp, "twilio": twilio, "sns": sns, "webhook": webhook}[sys.argv[1]]()
