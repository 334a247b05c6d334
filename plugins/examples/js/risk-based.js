// Reference policy "risk-based": a sign-in that looks unusual needs a second factor; an
// ordinary one keeps the static policy (global, group and app settings).
//
// Unusual means any of the risk signals Portcullis computes: a device (browser) this user
// has not signed in from, an IP address not seen for this user in the last 90 days, a
// password changed in the last 24 hours, or three or more failed attempts in the last hour.
// An unusual sign-in may not skip the challenge on a trusted device either.
import host from "portcullis:mfa/host";
import { decision, stronger } from "./selector.js";

const FAILED_ATTEMPTS_LIMIT = 3;

export function evaluate(ctx) {
  const s = ctx.signals;
  const risks = [];
  if (s.newDevice) risks.push("new device");
  if (s.newIp) risks.push("new IP address");
  if (s.passwordChangedRecently) risks.push("password changed recently");
  if (s.recentFailedAttempts >= FAILED_ATTEMPTS_LIMIT) {
    risks.push(`${s.recentFailedAttempts} failed attempts in the last hour`);
  }
  if (risks.length === 0) {
    return decision(ctx.staticPolicy, { reason: "no risk signal" });
  }
  const reason = "risk: " + risks.join(", ");
  host.log(`${ctx.user.username}: ${reason}`);
  return decision(stronger(ctx.staticPolicy, "any"), { allowTrustedDevice: false, reason });
}
