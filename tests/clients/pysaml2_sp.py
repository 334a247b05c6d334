"""A SAML service provider written by others (pysaml2, Python) against a running Portcullis.

It reads the IdP metadata Portcullis publishes, sends an AuthnRequest with the HTTP-Redirect
binding, signs in through the login form like a browser, takes the response from the
hand-over page and lets pysaml2 validate it with its own rules (signature through the
xmlsec1 binary, audience, recipient, InResponseTo, validity window). It then sends a request
asking for the REFEDS MFA context with IsPassive set and expects a NoPassive status, since a
second factor would need a page. Last, it asks the way mod_auth_mellon's stock AuthnRequest
does, for a transient NameID with AllowCreate, twice in the same SSO session, and expects two
different opaque identifiers. Prints "pysaml2: all checks passed" at the end.

Environment: BASE (Portcullis base URL), SP_ENTITY, ACS, USERNAME, PASSWORD.
"""

import html
import json
import os
import re
import sys
import tempfile
from urllib.parse import urljoin

import requests
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.response import StatusNoPassive
from saml2.saml import NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_TRANSIENT
from saml2.samlp import RequestedAuthnContext
from saml2.saml import AuthnContextClassRef

BASE = os.environ["BASE"]
SP_ENTITY = os.environ["SP_ENTITY"]
ACS = os.environ["ACS"]
USERNAME = os.environ["USERNAME"]
PASSWORD = os.environ["PASSWORD"]


def check(cond, what):
    if not cond:
        print(f"pysaml2: FAILED: {what}")
        sys.exit(1)


def hidden(page, name):
    m = re.search(r'name="%s" value="([^"]*)"' % re.escape(name), page)
    return html.unescape(m.group(1)) if m else None


def client():
    metadata = requests.get(urljoin(BASE, "/saml/metadata"), timeout=10).text
    path = os.path.join(tempfile.mkdtemp(), "idp.xml")
    with open(path, "w") as f:
        f.write(metadata)
    conf = {
        "entityid": SP_ENTITY,
        "metadata": {"local": [path]},
        "service": {
            "sp": {
                "endpoints": {"assertion_consumer_service": [(ACS, BINDING_HTTP_POST)]},
                "want_response_signed": True,
                "want_assertions_signed": True,
                "allow_unsolicited": False,
                "name_id_format": NAMEID_FORMAT_PERSISTENT,
            }
        },
        "allow_unknown_attributes": True,
        "accepted_time_diff": 60,
    }
    c = SPConfig()
    c.load(conf)
    return Saml2Client(config=c)


def redirect_location(info):
    return dict(info["headers"])["Location"]


def hand_over(session, url):
    page = session.get(url, allow_redirects=False, timeout=10)
    check(page.status_code == 200, f"hand-over page answered {page.status_code}")
    action = html.unescape(re.search(r'action="([^"]*)"', page.text).group(1))
    check(action == ACS, f"the form posts to {action}")
    return hidden(page.text, "SAMLResponse"), hidden(page.text, "RelayState")


def main():
    sp = client()
    browser = requests.Session()

    # 1. Sign in: Redirect binding, login form, hand-over, validation by pysaml2.
    req_id, info = sp.prepare_for_authenticate(relay_state="rs-1", binding=BINDING_HTTP_REDIRECT)
    r = browser.get(redirect_location(info), allow_redirects=False, timeout=10)
    check(r.status_code == 303 and r.headers["Location"].startswith("/login?request="), f"login redirect: {r.status_code}")
    login = browser.get(urljoin(BASE, r.headers["Location"]), timeout=10).text
    form = {"csrf": hidden(login, "csrf"), "request": hidden(login, "request"), "username": USERNAME, "password": PASSWORD}
    r = browser.post(urljoin(BASE, "/login"), data=form, allow_redirects=False, timeout=10)
    check(r.status_code == 303, f"login answered {r.status_code}")
    saml_response, relay = hand_over(browser, urljoin(BASE, r.headers["Location"]))
    check(relay == "rs-1", f"RelayState came back as {relay}")
    resp = sp.parse_authn_request_response(saml_response, BINDING_HTTP_POST, outstanding={req_id: "/"})
    check(resp is not None, "pysaml2 accepted the response")
    subject = resp.get_subject()
    check(subject.format == NAMEID_FORMAT_PERSISTENT and subject.text, f"NameID {subject}")
    ava = resp.get_identity()
    check(ava.get("username") == [USERNAME], f"attributes {ava}")
    contexts = [a.authn_context.authn_context_class_ref.text for a in resp.assertion.authn_statement]
    check(contexts == ["urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"], f"{contexts}")

    # 2. IsPassive asking for MFA: the session has none, so NoPassive comes back.
    ctx = RequestedAuthnContext(authn_context_class_ref=[AuthnContextClassRef(text="https://refeds.org/profile/mfa")])
    req_id, info = sp.prepare_for_authenticate(
        relay_state="rs-2", binding=BINDING_HTTP_REDIRECT, is_passive="true", requested_authn_context=ctx
    )
    r = browser.get(redirect_location(info), allow_redirects=False, timeout=10)
    check(r.status_code == 303, f"passive request answered {r.status_code}")
    saml_response, _ = hand_over(browser, r.headers["Location"])
    try:
        sp.parse_authn_request_response(saml_response, BINDING_HTTP_POST, outstanding={req_id: "/"})
        check(False, "a NoPassive status was expected")
    except StatusNoPassive:
        pass

    # 3. Transient NameID with AllowCreate (SAML Core §8.3.8), as mod_auth_mellon asks: the SSO
    #    session answers at once, each time with a fresh opaque value.
    transient = []
    for n in range(2):
        req_id, info = sp.prepare_for_authenticate(
            relay_state=f"rs-t{n}", binding=BINDING_HTTP_REDIRECT,
            nameid_format=NAMEID_FORMAT_TRANSIENT, allow_create="true",
        )
        r = browser.get(redirect_location(info), allow_redirects=False, timeout=10)
        check(r.status_code == 303, f"transient request answered {r.status_code}")
        saml_response, _ = hand_over(browser, r.headers["Location"])
        resp = sp.parse_authn_request_response(saml_response, BINDING_HTTP_POST, outstanding={req_id: "/"})
        check(resp is not None, "pysaml2 accepted the transient response")
        t = resp.get_subject()
        check(t.format == NAMEID_FORMAT_TRANSIENT and t.text, f"transient NameID {t}")
        check(t.text != subject.text, "a transient NameID is not the persistent one")
        transient.append(t.text)
    check(transient[0] != transient[1], f"each assertion gets its own transient NameID: {transient}")

    print(json.dumps({"name_id": subject.text, "transient": transient, "attributes": ava}))
    print("pysaml2: all checks passed")


if __name__ == "__main__":
    main()
