// Shared helpers for the JavaScript selectors in this folder. componentize-qjs bundles
// relative imports at build time, so each policy file imports what it needs from here.

// A decision with every optional field set to "no opinion" (`none`), so that a policy only
// writes what it means. Records are plain objects with camelCase keys; enums are strings.
export function decision(policy, fields = {}) {
  return {
    policy,
    allowedFactors: null,
    reauthIntervalMinutes: null,
    allowTrustedDevice: null,
    deny: null,
    reason: null,
    ...fields,
  };
}

// The stronger of two policies (Portcullis applies this floor rule anyway; using it here
// keeps the recorded decision honest about what will happen).
const ORDER = ["disabled", "optional", "any", "otp", "passkey"];
export function stronger(a, b) {
  return ORDER.indexOf(a) >= ORDER.indexOf(b) ? a : b;
}
