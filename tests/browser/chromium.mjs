// What the browser tests share: Debian's Chromium started headless the way this machine allows
// (no sandbox as root, no background networking into a closed network), and a watch on a page
// that collects what a person would notice going wrong.

import { chromium } from "playwright-core";

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

// Script errors, console errors and HTTP errors on `page`, as they happen.
export function watch(page) {
  const problems = [];
  page.setDefaultTimeout(15000);
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => m.type() === "error" && problems.push(`console: ${m.text()}`));
  page.on("response", (r) => r.status() >= 400 && problems.push(`HTTP ${r.status()} for ${r.url()}`));
  return problems;
}

export function check(cond, what) {
  if (!cond) throw new Error(what);
}
