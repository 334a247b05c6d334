// A person signing in to a SAML service provider, in a real browser (headless Chromium):
//
//   node saml.mjs START_URL ACS_URL USERNAME PASSWORD
//
// opens the SP's AuthnRequest URL, signs in on the login page, and lets the hand-over page
// post the response to the ACS by itself (its script submits the form). Prints one JSON line
// with where the browser ended and what the ACS answered; exits non-zero on any failure.

import { chromium } from "playwright-core";

const [start, acs, username, password] = process.argv.slice(2);
if (!start || !acs || !username || !password) {
  console.error("usage: node saml.mjs START_URL ACS_URL USERNAME PASSWORD");
  process.exit(2);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking", "--no-first-run"],
});

try {
  const page = await browser.newPage();
  await page.goto(start);
  await page.fill("#username", username);
  await page.fill("#password", password);
  await Promise.all([page.waitForURL(acs, { timeout: 15000 }), page.click("button[type=submit]")]);
  const text = (await page.textContent("body")) || "";
  console.log(JSON.stringify({ url: page.url(), text: text.trim() }));
} catch (e) {
  console.error(String(e && e.stack ? e.stack : e));
  process.exitCode = 1;
} finally {
  await browser.close();
}
