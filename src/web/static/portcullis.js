// Portcullis pages: the few things that need a script. Everything else works without it.
//
// <form data-webauthn="create|get" data-begin="URL">: on submit, asks URL (POST, JSON
// {"csrf": ...}) for WebAuthn options, runs the browser's ceremony, puts the result as JSON
// in the form's `credential` field (and the ceremony id in `ceremony`) and submits it.
// <button data-print>: prints the page. <button data-copy="ID">: copies #ID's text;
// <button data-copy-value="TEXT">: copies TEXT.
// <button data-reveal="ID">: shows or hides the password in input #ID.
"use strict";

(function () {
  function decode(s) {
    const b64 = s.replace(/-/g, "+").replace(/_/g, "/");
    const bin = atob(b64 + "===".slice((b64.length + 3) % 4));
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }

  function encode(buf) {
    const bytes = new Uint8Array(buf);
    let bin = "";
    for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withIds(list) {
    return (list || []).map(function (c) {
      return Object.assign({}, c, { id: decode(c.id) });
    });
  }

  function creationOptions(pk) {
    return Object.assign({}, pk, {
      challenge: decode(pk.challenge),
      user: Object.assign({}, pk.user, { id: decode(pk.user.id) }),
      excludeCredentials: withIds(pk.excludeCredentials),
    });
  }

  function requestOptions(pk) {
    return Object.assign({}, pk, {
      challenge: decode(pk.challenge),
      allowCredentials: withIds(pk.allowCredentials),
    });
  }

  function credentialJson(cred) {
    const r = cred.response;
    const out = {
      id: cred.id,
      rawId: encode(cred.rawId),
      type: cred.type,
      extensions: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: { clientDataJSON: encode(r.clientDataJSON) },
    };
    if (r.attestationObject) {
      out.response.attestationObject = encode(r.attestationObject);
      if (r.getTransports) out.response.transports = r.getTransports();
    } else {
      out.response.authenticatorData = encode(r.authenticatorData);
      out.response.signature = encode(r.signature);
      out.response.userHandle = r.userHandle ? encode(r.userHandle) : null;
    }
    return out;
  }

  function explain(e) {
    if (e && e.name === "NotAllowedError") return "The passkey request was cancelled or timed out. Try again.";
    if (e && e.name === "InvalidStateError") return "This passkey is already registered.";
    return (e && e.message) || String(e);
  }

  function setUp(form) {
    const button = form.querySelector("button[type=submit]");
    const status = form.querySelector("[data-webauthn-status]");
    if (!window.PublicKeyCredential || !navigator.credentials) {
      if (status) status.textContent = "This browser cannot use passkeys.";
      if (button) button.disabled = true;
      return;
    }
    form.hidden = false;
    form.addEventListener("submit", async function (ev) {
      ev.preventDefault();
      if (button) button.disabled = true;
      if (status) status.textContent = "";
      try {
        const res = await fetch(form.dataset.begin, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ csrf: form.elements.csrf.value }),
        });
        const body = await res.json();
        if (!res.ok) throw new Error(body.error_description || "The server refused the request.");
        let cred;
        if (form.dataset.webauthn === "create") {
          cred = await navigator.credentials.create({ publicKey: creationOptions(body.publicKey) });
          form.elements.ceremony.value = body.session;
        } else {
          cred = await navigator.credentials.get({ publicKey: requestOptions(body.publicKey) });
        }
        form.elements.credential.value = JSON.stringify(credentialJson(cred));
        form.submit();
      } catch (e) {
        if (status) status.textContent = explain(e);
        if (button) button.disabled = false;
      }
    });
  }

  document.querySelectorAll("form[data-webauthn]").forEach(setUp);

  document.querySelectorAll("button[data-print]").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () {
      window.print();
    });
  });

  // <form data-autosubmit>: the SAML hand-over posts itself; its button is the fallback.
  document.querySelectorAll("form[data-autosubmit]").forEach(function (f) {
    f.submit();
  });

  document.querySelectorAll("button[data-copy], button[data-copy-value]").forEach(function (b) {
    if (!navigator.clipboard) return;
    b.hidden = false;
    b.addEventListener("click", async function () {
      const text = b.dataset.copyValue !== undefined
        ? b.dataset.copyValue
        : document.getElementById(b.dataset.copy).innerText;
      try {
        await navigator.clipboard.writeText(text);
        b.textContent = b.dataset.done || "Copied";
      } catch (e) {
        b.textContent = b.dataset.failed || "Copy failed";
      }
    });
  });

  document.querySelectorAll("button[data-reveal]").forEach(function (b) {
    const input = document.getElementById(b.dataset.reveal);
    if (!input) return;
    b.hidden = false;
    b.addEventListener("click", function () {
      const show = input.type === "password";
      input.type = show ? "text" : "password";
      b.setAttribute("aria-pressed", show ? "true" : "false");
      b.textContent = show ? (b.dataset.hide || "Hide password") : (b.dataset.show || "Show password");
      input.focus();
    });
    // Never submitted in clear text: hidden again before the form goes.
    if (input.form) input.form.addEventListener("submit", function () { input.type = "password"; });
  });
})();
