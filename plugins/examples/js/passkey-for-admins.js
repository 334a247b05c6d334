// Reference policy "passkey-for-admins": administrators of Portcullis and members of the
// groups below must use a passkey (phishing-resistant); everyone else keeps the static
// policy. Backup codes still work as the way back in after a lost passkey.
import { decision } from "./selector.js";

// Edit to match your directory's admin groups.
const ADMIN_GROUPS = ["admins", "administrators"];

export function evaluate(ctx) {
  const user = ctx.user;
  const group = user.groups.find((g) => ADMIN_GROUPS.includes(g));
  if (user.isAdmin || group !== undefined) {
    const why = user.isAdmin ? "Portcullis administrator" : `member of ${group}`;
    return decision("passkey", { reason: `${why}: passkey required` });
  }
  return decision(ctx.staticPolicy, { reason: "not an administrator" });
}
