// A person with a passkey, in a real browser: headless Chromium with a DevTools virtual
// authenticator (CTAP2, internal transport, resident keys, user verification).
//
//   node passkey.mjs BASE_URL USERNAME PASSWORD
//
// 1. signs in with the password and lands on the profile page;
// 2. adds a passkey there through the page's WebAuthn script;
// 3. signs out;
// 4. signs in to the built-in demo relying party (a real OIDC code flow with PKCE): the
//    password, then the passkey as second factor, and reads the verified ID token claims.
// Prints one JSON line with what it saw; exits non-zero with the reason on any failure.

import { check, launch, watch } from "./chromium.mjs";

const [base, username, password] = process.argv.slice(2);
if (!base || !username || !password) {
  console.error("usage: node passkey.mjs BASE_URL USERNAME PASSWORD");
  process.exit(2);
}

const browser = await launch();


try {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = watch(page);

  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });

  // 1. Password sign-in, straight to the profile page.
  await page.goto(`${base}/login`);
  await page.fill("#username", username);
  await page.fill("#password", password);
  await Promise.all([page.waitForURL(`${base}/profile`), page.click("button[type=submit]")]);
  check((await page.textContent("h1")) === "Your account", "the profile page after signing in");

  // 2. Add a passkey on the profile page.
  await page.fill("#passkey-name", "Virtual authenticator");
  // The first sign-in method comes with a set of backup codes, shown this once.
  await Promise.all([page.waitForURL(`${base}/profile/passkeys`), page.click("#add-passkey")]);
  const shown = await page.textContent("body");
  check(shown.includes("Your passkey was added.") && shown.includes("Save these codes now"), "backup codes offered");
  check((await page.locator("#backup-codes li").count()) === 10, "ten backup codes on the page");
  const list = await page.textContent("#passkey-list");
  check(list.includes("Virtual authenticator"), `passkey listed on the profile page: ${list}`);
  const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  check(credentials.length === 1, `one credential in the authenticator, found ${credentials.length}`);
  const rpId = credentials[0].rpId;

  // 3. Sign out.
  await page.click("#sign-out");
  await page.waitForSelector("text=You are signed out");

  // 4. The demo relying party: password, then the passkey as second factor.
  await page.goto(`${base}/demo`);
  await Promise.all([page.waitForURL(/\/oauth2\/authorize\?/), page.click("text=Sign in with Portcullis")]);
  await page.fill("#username", username);
  await page.fill("#password", password);
  await Promise.all([page.waitForURL(`${base}/login/mfa`), page.click("button[type=submit]")]);
  check(await page.isVisible("#passkey-button"), "the challenge page offers the passkey");
  await Promise.all([page.waitForURL(`${base}/login/mfa/passkey`), page.click("#passkey-button")]);
  // Not a trusted device this time.
  check((await page.textContent("h1")) === "Trust this device?", "the trust-device prompt after the passkey");
  await Promise.all([page.waitForURL(/\/demo\/callback/), page.click("button[value=no]")]);
  const claims = await page.textContent("dl.claims");
  const amr = (await page.textContent("dl.claims dt:has-text('amr') + dd > code")).trim();
  const acr = (await page.textContent("dl.claims dt:has-text('acr') + dd > code")).trim();
  const after = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  check(problems.length === 0, problems.join(" | "));
  console.log(
    JSON.stringify({
      rpId,
      amr,
      acr,
      username: claims.includes(username),
      signCount: after.credentials[0].signCount,
    }),
  );
} catch (e) {
  console.error(`browser test failed: ${e.stack || e}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
