// The admin console and the account pages, walked in a real browser (headless Chromium) and
// checked with axe-core, as people use them: at 1280 px and 390 px wide, in light and dark.
//
//   node console.mjs BASE_URL ADMIN PASSWORD USER PASSWORD SCREENSHOT_DIR PATH...
//
// Signs in as the administrator, opens each PATH (console pages), again in German (the
// browser's language; German words are longer, so a phone's width is the test), then signs in
// as the user and opens the account page. On each page and each of the four looks it runs axe (WCAG 2.1
// A and AA rules) and keeps a screenshot in SCREENSHOT_DIR. Fails on any serious or critical
// violation, a script or console error, an HTTP error, or a page wider than the window.
// Prints one JSON line: how many pages and looks were checked, and the minor findings.

import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { check, launch, watch } from "./chromium.mjs";

const [base, admin, adminPassword, user, userPassword, shots, ...paths] = process.argv.slice(2);
if (!base || !admin || !adminPassword || !user || !userPassword || !shots || paths.length === 0) {
  console.error("usage: node console.mjs BASE_URL ADMIN PASSWORD USER PASSWORD SCREENSHOT_DIR PATH...");
  process.exit(2);
}
fs.mkdirSync(shots, { recursive: true });
for (const f of fs.readdirSync(shots)) if (f.endsWith(".png")) fs.rmSync(path.join(shots, f));
const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

const looks = [
  { name: "1280-light", width: 1280, height: 900, scheme: "light" },
  { name: "1280-dark", width: 1280, height: 900, scheme: "dark" },
  { name: "390-light", width: 390, height: 844, scheme: "light" },
  { name: "390-dark", width: 390, height: 844, scheme: "dark" },
];

const browser = await launch();
const failures = [];
const minor = new Set();
let checked = 0;

async function signIn(page, username, password) {
  await page.goto(`${base}/login`);
  await page.fill("#username", username);
  await page.fill("#password", password);
  await Promise.all([page.waitForNavigation(), page.click("button[type=submit]:not(.reveal)")]);
}

async function audit(page, label) {
  for (const look of looks) {
    await page.setViewportSize({ width: look.width, height: look.height });
    await page.emulateMedia({ colorScheme: look.scheme });
    await page.evaluate(axeSource);
    const result = await page.evaluate(async () =>
      // eslint-disable-next-line no-undef
      axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }),
    );
    for (const v of result.violations) {
      const where = v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ");
      if (v.impact === "serious" || v.impact === "critical") {
        failures.push(`${label} ${look.name}: ${v.id} (${v.impact}) at ${where}: ${v.help}`);
      } else {
        minor.add(`${v.id} (${v.impact})`);
      }
    }
    // Nothing forces the page sideways: people on a phone read it without scrolling across.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    if (overflow > 1) failures.push(`${label} ${look.name}: ${overflow}px wider than the window`);
    const file = `${label.replace(/[^a-z0-9]+/gi, "_").replace(/^_|_$/g, "") || "root"}-${look.name}.png`;
    await page.screenshot({ path: path.join(shots, file), fullPage: true });
    checked++;
  }
}

try {
  const context = await browser.newContext({ bypassCSP: true });
  const page = await context.newPage();
  const problems = watch(page);
  await signIn(page, admin, adminPassword);
  for (const p of paths) {
    const resp = await page.goto(`${base}${p}`);
    check(resp.status() < 400, `${p} answered ${resp.status()}`);
    await audit(page, p);
  }
  // The same console in German: every page says so, and nothing overflows at 390 px.
  const deContext = await browser.newContext({ bypassCSP: true, locale: "de-DE" });
  const dePage = await deContext.newPage();
  const deProblems = watch(dePage);
  await signIn(dePage, admin, adminPassword);
  for (const p of paths) {
    const resp = await dePage.goto(`${base}${p}`);
    check(resp.status() < 400, `${p} (de) answered ${resp.status()}`);
    check((await dePage.getAttribute("html", "lang")) === "de", `${p} is not in German`);
    await audit(dePage, `de${p}`);
  }
  problems.push(...deProblems);
  const userContext = await browser.newContext({ bypassCSP: true });
  const userPage = await userContext.newPage();
  const userProblems = watch(userPage);
  await signIn(userPage, user, userPassword);
  await userPage.goto(`${base}/profile`);
  await audit(userPage, "/profile");
  await userPage.goto(`${base}/login`);
  await audit(userPage, "/login");
  check(problems.length === 0 && userProblems.length === 0, [...problems, ...userProblems].join("; "));
  check(failures.length === 0, `accessibility or layout failures:\n${failures.join("\n")}`);
  console.log(JSON.stringify({ checked, minor: [...minor].sort() }));
} catch (e) {
  console.error(e.message || String(e));
  process.exitCode = 1;
} finally {
  await browser.close();
}
