"""An independent OpenID Connect relying party, in Python with Authlib, against a running
Portcullis: discovery, authorization code with PKCE (S256) through the real login form, ID
token validation (signature against the JWKS, iss, aud, exp, nonce, at_hash) with Authlib's own
claim rules, userinfo, refresh with rotation, reuse of a rotated refresh token, introspection,
revocation. Then the step-up a stock mod_auth_openidc does (`acr_values` with the REFEDS MFA
profile, and `Require claim acr:...`): the same SSO session is sent through the second factor
(TOTP, computed here from RFC 6238), and the ID token must say the `acr` that was asked for,
with an honest `amr`. Last, the client credentials grant: a token in the client's own name,
verified against the JWKS, introspected, refused by userinfo, revoked. Each step that fails
exits non-zero with the reason.

Run by the Rust test suite (tests/it/independent_clients.rs) with:
ISSUER, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, USERNAME, PASSWORD, TOTP_SECRET (base32).
"""

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import struct
import sys
import time
import warnings

import requests
from authlib.integrations.requests_client import OAuth2Session

warnings.simplefilter("ignore")  # authlib.jose announces its move to joserfc
from authlib.jose import JsonWebKey, jwt  # noqa: E402
from authlib.oidc.core import CodeIDToken  # noqa: E402

ISSUER = os.environ["ISSUER"]
CLIENT_ID = os.environ["CLIENT_ID"]
CLIENT_SECRET = os.environ["CLIENT_SECRET"]
REDIRECT_URI = os.environ["REDIRECT_URI"]
USERNAME = os.environ["USERNAME"]
PASSWORD = os.environ["PASSWORD"]
TOTP_SECRET = os.environ["TOTP_SECRET"]
REFEDS_MFA = "https://refeds.org/profile/mfa"


def check(cond, what):
    if not cond:
        print(f"authlib: FAILED: {what}", file=sys.stderr)
        sys.exit(1)
    print(f"authlib: ok: {what}")


def hidden(html, name):
    m = re.search(r'name="%s" value="([^"]*)"' % re.escape(name), html)
    return m.group(1).replace("&amp;", "&").replace("&#38;", "&") if m else None


def totp(secret_b32, unix):
    """RFC 6238 with HMAC-SHA-1, 6 digits, 30-second steps."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", unix // 30), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1_000_000)


def introspect(meta, token):
    return requests.post(
        meta["introspection_endpoint"],
        data={"token": token},
        auth=(CLIENT_ID, CLIENT_SECRET),
        timeout=10,
    ).json()


def main():
    meta = requests.get(f"{ISSUER}/.well-known/openid-configuration", timeout=10).json()
    check(meta["issuer"] == ISSUER, "discovery names the issuer")
    check("S256" in meta["code_challenge_methods_supported"], "discovery offers PKCE S256")

    client = OAuth2Session(
        CLIENT_ID,
        CLIENT_SECRET,
        scope="openid profile email offline_access",
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
    )
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(16)
    url, state = client.create_authorization_url(
        meta["authorization_endpoint"], nonce=nonce, code_verifier=verifier
    )

    # The person: the login form with its CSRF token, as a browser without JavaScript.
    browser = requests.Session()
    page = browser.get(url, allow_redirects=False, timeout=10)
    check(page.status_code == 200 and 'action="/login"' in page.text, "authorize shows the login form")
    form = {
        "csrf": hidden(page.text, "csrf"),
        "request": hidden(page.text, "request"),
        "username": USERNAME,
        "password": PASSWORD,
    }
    check(form["csrf"] and form["request"], "the login form carries its CSRF token and request")
    r = browser.post(f"{ISSUER}/login", data=form, allow_redirects=False, timeout=10)
    callback = r.headers.get("location", "")
    check(r.status_code == 303 and callback.startswith(REDIRECT_URI), f"signed in, back to the client ({callback})")

    # The relying party: code → tokens (Authlib checks `state` against the callback).
    token = client.fetch_token(
        meta["token_endpoint"], authorization_response=callback, code_verifier=verifier
    )
    check(token["token_type"].lower() == "bearer", "token response with a bearer token")
    check("refresh_token" in token and "id_token" in token, "refresh and ID tokens issued")

    jwks = JsonWebKey.import_key_set(requests.get(meta["jwks_uri"], timeout=10).json())
    claims = jwt.decode(
        token["id_token"],
        jwks,
        claims_cls=CodeIDToken,
        claims_options={"iss": {"essential": True, "value": ISSUER}},
        claims_params={"nonce": nonce, "client_id": CLIENT_ID, "access_token": token["access_token"]},
    )
    claims.validate()
    check(True, "ID token verified: signature (JWKS), iss, aud, exp, iat, nonce, at_hash")
    digest = hashlib.sha256(token["access_token"].encode()).digest()[:16]
    at_hash = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    check(claims["at_hash"] == at_hash, "at_hash matches the access token")
    check(claims["sub"] != USERNAME, "sub is a stable id, not the username")

    info = client.get(meta["userinfo_endpoint"], timeout=10).json()
    check(info["sub"] == claims["sub"] and info.get("preferred_username") == USERNAME, "userinfo for the same subject")

    # Access token as an RFC 9068 JWT.
    at = jwt.decode(token["access_token"], jwks)
    at.validate()
    check(at["iss"] == ISSUER and at["sub"] == claims["sub"], "access token is a signed JWT for the subject")

    # Refresh with rotation; the rotated token is dead, and reusing it revokes the family.
    old_refresh = token["refresh_token"]
    fresh = client.refresh_token(meta["token_endpoint"], refresh_token=old_refresh)
    check(fresh["refresh_token"] != old_refresh, "refresh rotates the refresh token")
    intro = introspect(meta, fresh["access_token"])
    check(intro["active"] is True and intro["sub"] == claims["sub"], "introspection: the new access token is active")
    reuse = requests.post(
        meta["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": old_refresh},
        auth=(CLIENT_ID, CLIENT_SECRET),
        timeout=10,
    )
    check(reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant", "a rotated refresh token is refused")
    after = requests.post(
        meta["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": fresh["refresh_token"]},
        auth=(CLIENT_ID, CLIENT_SECRET),
        timeout=10,
    )
    check(after.status_code == 400 and after.json()["error"] == "invalid_grant", "reuse revoked the whole family")
    check(introspect(meta, fresh["access_token"])["active"] is False, "...and its access tokens (introspection)")

    revoke = requests.post(
        meta["revocation_endpoint"],
        data={"token": fresh["refresh_token"], "token_type_hint": "refresh_token"},
        auth=(CLIENT_ID, CLIENT_SECRET),
        timeout=10,
    )
    check(revoke.status_code == 200, "revocation answers 200 (RFC 7009), even for a dead token")
    bad = requests.post(
        meta["token_endpoint"],
        data={"grant_type": "authorization_code", "code": "nope", "redirect_uri": REDIRECT_URI},
        auth=(CLIENT_ID, "wrong secret"),
        timeout=10,
    )
    check(bad.status_code == 401 and bad.json()["error"] == "invalid_client", "a wrong client secret: 401 invalid_client")
    check(claims["acr"] != REFEDS_MFA and "mfa" not in claims["amr"], "the password-only login says so")

    # Step-up, as mod_auth_openidc asks for it: the SSO session passes the second factor.
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(16)
    url, state = client.create_authorization_url(
        meta["authorization_endpoint"], nonce=nonce, code_verifier=verifier, acr_values=REFEDS_MFA
    )
    r = browser.get(url, allow_redirects=False, timeout=10)
    check(r.status_code == 303 and r.headers["location"].startswith("/login/mfa"), f"step-up asks for the second factor ({r.headers.get('location')})")
    page = browser.get(ISSUER + "/login/mfa", timeout=10)
    # The enrolment used the current time step; the next one is inside the ±1 step window.
    code = totp(TOTP_SECRET, int(time.time()) + 30)
    r = browser.post(f"{ISSUER}/login/mfa/totp", data={"csrf": hidden(page.text, "csrf"), "code": code}, allow_redirects=False, timeout=10)
    if r.status_code == 200 and hidden(r.text, "trust_token"):
        form = {k: hidden(r.text, k) for k in ("csrf", "trust_token", "request")}
        form["trust"] = "no"
        r = browser.post(f"{ISSUER}/login/trust", data=form, allow_redirects=False, timeout=10)
    callback = r.headers.get("location", "")
    check(r.status_code == 303 and callback.startswith(REDIRECT_URI), f"second factor passed, back to the client ({r.status_code} {callback})")
    token = client.fetch_token(meta["token_endpoint"], authorization_response=callback, code_verifier=verifier)
    stepped = jwt.decode(
        token["id_token"],
        jwks,
        claims_cls=CodeIDToken,
        claims_options={"iss": {"essential": True, "value": ISSUER}, "acr": {"essential": True, "value": REFEDS_MFA}},
        claims_params={"nonce": nonce, "client_id": CLIENT_ID, "access_token": token["access_token"]},
    )
    stepped.validate()
    check(stepped["acr"] == REFEDS_MFA, "Require claim acr: the ID token says the acr that was asked for")
    check(stepped["amr"] == ["pwd", "otp", "mfa"], f"amr tells the methods used: {stepped['amr']}")
    intro = introspect(meta, token["access_token"])
    check(intro["acr"] == REFEDS_MFA and intro["amr"] == ["pwd", "otp", "mfa"] and intro["auth_time"], f"introspection says how the user signed in: {intro}")

    # A service in its own name: the client credentials grant (RFC 6749 §4.4), as Authlib asks.
    check("client_credentials" in meta["grant_types_supported"], "discovery offers the client credentials grant")
    service = OAuth2Session(CLIENT_ID, CLIENT_SECRET, token_endpoint_auth_method="client_secret_basic")
    cc = service.fetch_token(meta["token_endpoint"], grant_type="client_credentials", scope="api:read")
    check(cc["token_type"].lower() == "bearer" and cc["scope"] == "api:read", f"client credentials: a bearer token for api:read ({cc.get('scope')})")
    check("refresh_token" not in cc and "id_token" not in cc, "client credentials: no refresh token, no ID token")
    cc_at = jwt.decode(cc["access_token"], jwks)
    cc_at.validate()
    check(cc_at.header.get("typ") == "at+jwt", "the client's token is an RFC 9068 JWT (typ at+jwt), signed (JWKS)")
    check(cc_at["sub"] == CLIENT_ID and cc_at["client_id"] == CLIENT_ID and cc_at["iss"] == ISSUER, "its subject is the client")
    check(not any(k in cc_at for k in ("gid", "sid", "auth_time", "acr", "amr")), f"it says nothing about a user: {dict(cc_at)}")
    check(introspect(meta, cc["access_token"])["active"] is True, "introspection: the client's token is active")
    r = requests.get(meta["userinfo_endpoint"], headers={"Authorization": f"Bearer {cc['access_token']}"}, timeout=10)
    check(r.status_code == 401 and r.json()["error"] == "invalid_token", "userinfo refuses a token that names no user")
    r = requests.post(meta["token_endpoint"], data={"grant_type": "client_credentials", "scope": "openid"}, auth=(CLIENT_ID, CLIENT_SECRET), timeout=10)
    check(r.status_code == 400 and r.json()["error"] == "invalid_scope", "no user scope in the client's own name")
    r = requests.post(meta["revocation_endpoint"], data={"token": cc["access_token"]}, auth=(CLIENT_ID, CLIENT_SECRET), timeout=10)
    check(r.status_code == 200 and introspect(meta, cc["access_token"])["active"] is False, "revoked: the client's token is no longer active")

    print("authlib: all checks passed")
    print(json.dumps({"sub": claims["sub"], "amr": claims.get("amr"), "stepped_up_amr": stepped["amr"]}))


if __name__ == "__main__":
    main()
