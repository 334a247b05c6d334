// A person with text-message codes, in a real browser (headless Chromium):
//
//   node sms.mjs BASE_URL USERNAME PASSWORD HOOK_PORT
//
// This script is also the SMS provider: it listens on HOOK_PORT for the webhook Portcullis
// posts each text message to, and types the code it carries where a person would.
// 1. signs in with the password and lands on the profile page;
// 2. sets up text-message codes there (the number, then the code that was texted);
// 3. signs out;
// 4. signs in to the built-in demo relying party: the password, then "Text me a code" on the
//    MFA page and the texted code, and reads the ID token's claims.
// Prints one JSON line with what it saw; exits non-zero with the reason on any failure.

import http from "node:http";
import { check, launch, watch } from "./chromium.mjs";

const [base, username, password, hookPort] = process.argv.slice(2);
if (!base || !username || !password || !hookPort) {
  console.error("usage: node sms.mjs BASE_URL USERNAME PASSWORD HOOK_PORT");
  process.exit(2);
}

const inbox = [];
const waiting = [];
const hook = http.createServer((req, res) => {
  let body = "";
  req.on("data", (chunk) => (body += chunk));
  req.on("end", () => {
    res.writeHead(204);
    res.end();
    const text = JSON.parse(body).data.body;
    const code = (text.match(/^(\d{6}) /) || [])[1];
    if (!code) return;
    const deliver = waiting.shift();
    if (deliver) deliver(code);
    else inbox.push(code);
  });
});
await new Promise((resolve) => hook.listen(Number(hookPort), "127.0.0.1", resolve));

function nextCode() {
  const got = inbox.length ? Promise.resolve(inbox.shift()) : new Promise((resolve) => waiting.push(resolve));
  const late = new Promise((_, reject) => setTimeout(() => reject(new Error("no text message arrived")), 15000));
  return Promise.race([got, late]);
}

const browser = await launch();

try {
  const page = await browser.newPage();
  const problems = watch(page);

  // 1. Password sign-in, straight to the profile page.
  await page.goto(`${base}/login`);
  await page.fill("#username", username);
  await page.fill("#password", password);
  await Promise.all([page.waitForURL(`${base}/profile`), page.click("button[type=submit]")]);

  // 2. Text-message codes on the profile page: the number, then the texted code.
  await page.fill("#sms-phone", "+1 415 555 2677");
  await Promise.all([page.waitForURL(`${base}/profile/sms/setup`), page.click("text=Text me a code")]);
  check((await page.textContent("body")).includes("+1***2677"), "the page says where the code went");
  await page.fill("#sms-code", await nextCode());
  await Promise.all([page.waitForURL(`${base}/profile/sms/confirm`), page.click("text=Confirm")]);
  const body = await page.textContent("body");
  check(body.includes("Codes go to +1***2677"), "the number is listed, masked");
  check(body.includes("Save these codes now"), "the first sign-in method comes with backup codes");

  // 3. Sign out.
  await page.click("#sign-out");
  await page.waitForSelector("text=You are signed out");

  // 4. The demo relying party: password, then a texted code as the second step.
  await page.goto(`${base}/demo`);
  await Promise.all([page.waitForURL(/\/oauth2\/authorize\?/), page.click("text=Sign in with Portcullis")]);
  await page.fill("#username", username);
  await page.fill("#password", password);
  await Promise.all([page.waitForURL(`${base}/login/mfa`), page.click("button[type=submit]")]);
  await Promise.all([page.waitForURL(`${base}/login/mfa/sms/send`), page.click("text=Text me a code at +1***2677")]);
  check(await page.isVisible("#mfa-notice"), "the page says a code was texted");
  await page.fill("#sms-code", await nextCode());
  await Promise.all([
    page.waitForURL(`${base}/login/mfa/sms`),
    page.click("form[action='/login/mfa/sms'] button[type=submit]"),
  ]);
  check((await page.textContent("h1")) === "Trust this device?", "the trust-device prompt after the code");
  await Promise.all([page.waitForURL(/\/demo\/callback/), page.click("button[value=no]")]);
  const amr = (await page.textContent("dl.claims dt:has-text('amr') + dd > code")).trim();
  const acr = (await page.textContent("dl.claims dt:has-text('acr') + dd > code")).trim();
  check(problems.length === 0, problems.join(" | "));
  console.log(JSON.stringify({ amr, acr }));
} catch (e) {
  console.error(`browser test failed: ${e.stack || e}`);
  process.exitCode = 1;
} finally {
  await browser.close();
  hook.close();
}
