// A person who lost the phone with their authenticator app, in a real browser (headless
// Chromium):
//
//   node recovery.mjs BASE_URL USERNAME PASSWORD
//
// 1. signs in to the built-in demo relying party with the password and meets the MFA page;
// 2. "Lost access to your second step?": asks for a recovery link by email;
// 3. reads the link from standard input (the test takes it from the mail that arrived) and
//    opens it: the password again, "remove them" for the old methods, Continue;
// 4. sets up a new authenticator app: reads the key off the page and works out the code
//    (RFC 6238), as the app would;
// 5. sees the backup codes that come with it, continues, and is back at the demo app, signed
//    in; reads the ID token's claims.
// Prints one JSON line with what it saw; exits non-zero with the reason on any failure.

import crypto from "node:crypto";
import readline from "node:readline";
import { check, launch, watch } from "./chromium.mjs";

const [base, username, password] = process.argv.slice(2);
if (!base || !username || !password) {
  console.error("usage: node recovery.mjs BASE_URL USERNAME PASSWORD  (the link on standard input)");
  process.exit(2);
}

async function mailedLink() {
  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line.trim()) return line.trim();
  }
  throw new Error("no recovery link arrived");
}

function base32(s) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of s.replace(/[\s=]/g, "").toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const out = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) out.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(out);
}

function totp(secret) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000 / 30)));
  const mac = crypto.createHmac("sha1", base32(secret)).update(counter).digest();
  const at = mac[mac.length - 1] & 15;
  return String((mac.readUInt32BE(at) & 0x7fffffff) % 1000000).padStart(6, "0");
}

const browser = await launch();

try {
  const page = await browser.newPage();
  const problems = watch(page);

  // 1. The demo relying party: the password, then the MFA page.
  await page.goto(`${base}/demo`);
  await Promise.all([page.waitForURL(/\/oauth2\/authorize\?/), page.click("text=Sign in with Portcullis")]);
  await page.fill("#username", username);
  await page.fill("#password", password);
  await Promise.all([page.waitForURL(`${base}/login/mfa`), page.click("button[type=submit]")]);

  // 2. The phone is gone: ask for a recovery link.
  check(await page.isVisible("text=Lost access to your second step?"), "the MFA page offers a way back in");
  await Promise.all([page.waitForURL(`${base}/login/mfa/recovery`), page.click("text=Email me a recovery link")]);
  check((await page.textContent("h1")) === "Check your email", "the page says a link was sent");

  // 3. The link from the mail: the password again, and the old methods removed.
  await page.goto(await mailedLink());
  check((await page.textContent("h1")) === "Recover your sign-in", "the link opens the recovery page");
  await page.fill("#password", password);
  check(await page.isChecked("input[name=old_factors][value=replace]"), "removing the lost methods is the default");
  await Promise.all([page.waitForURL(`${base}/login/mfa`), page.click("text=Continue")]);
  check((await page.textContent("body")).includes("You are recovering your account"), "a recovery session");

  // 4. A new authenticator app.
  const secret = (await page.textContent("code.secret")).replace(/\s+/g, "");
  await page.fill("#code", totp(secret));
  await Promise.all([page.waitForURL(`${base}/login/mfa/enroll/totp`), page.click("text=Turn on")]);

  // 5. Backup codes, then back to the app.
  check((await page.textContent("h1")) === "Save your backup codes", "backup codes come with the new method");
  const codes = await page.locator("#backup-codes li").count();
  check(!(await page.isVisible("text=Trust this device")), "a recovery never trusts the device");
  await Promise.all([page.waitForURL(/\/demo\/callback/), page.click("text=I saved them — continue")]);
  const amr = (await page.textContent("dl.claims dt:has-text('amr') + dd > code")).trim();
  const acr = (await page.textContent("dl.claims dt:has-text('acr') + dd > code")).trim();
  check(problems.length === 0, problems.join(" | "));
  console.log(JSON.stringify({ amr, acr, codes }));
} catch (e) {
  console.error(`browser test failed: ${e.stack || e}`);
  process.exitCode = 1;
} finally {
  await browser.close();
  process.stdin.destroy();
}
