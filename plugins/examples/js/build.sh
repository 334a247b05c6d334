#!/usr/bin/env bash
# Builds every JavaScript selector in this folder into dist/NAME.wasm with componentize-qjs
# (QuickJS), against the contract in plugins/wit/1.0.0. Needs Node.js 20+ and npm; the
# first run installs the pinned componentize-qjs (package-lock.json). `npm install`, not
# `npm ci`: some of its optional per-platform packages are not published, which `npm ci`
# refuses to accept.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
wit="$here/../../wit/1.0.0"
cd "$here"
if [ ! -x node_modules/.bin/componentize-qjs ]; then
  npm install --no-audit --no-fund --loglevel=error
fi
mkdir -p dist
for src in risk-based.js passkey-for-admins.js office-network.js; do
  out="dist/${src%.js}.wasm"
  node_modules/.bin/componentize-qjs --wit "$wit" --js "$src" -o "$out" --sync --stub-wasi >/dev/null
  echo "built $out"
done
