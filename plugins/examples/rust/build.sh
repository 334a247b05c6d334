#!/usr/bin/env bash
# Builds the Rust selector into dist/risk-based.wasm: cargo builds a core module for
# wasm32-unknown-unknown (wit-bindgen embeds the world), then `wasm-tools component new`
# wraps it into a component against plugins/wit/1.0.0.
#
# Toolchain, in order of preference:
#   1. rustup with the target installed (`rustup target add wasm32-unknown-unknown`);
#   2. Debian's rustc-web, cargo-web and rust-web-src with lld (`apt-get install rustc-web
#      cargo-web rust-web-src lld`): std is built from source with -Zbuild-std.
# Wrapping: wasm-tools on PATH; else the helper PORTCULLIS_COMPONENT_NEW names (the test
# command builds it: `cargo build --example component_new`, the wit-component crate); else a
# pinned wasm-tools installed on first run into $PORTCULLIS_TOOLS_DIR (default: .tools/ here).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
target=wasm32-unknown-unknown
# This crate's own target dir, whatever the caller's CARGO_TARGET_DIR says.
export CARGO_TARGET_DIR="$here/target"
core="$CARGO_TARGET_DIR/$target/release/risk_based_selector.wasm"
tools="${PORTCULLIS_TOOLS_DIR:-$here/.tools}"
WASM_TOOLS_VERSION=1.263.0

if command -v rustup >/dev/null && rustup target list --installed 2>/dev/null | grep -qx "$target"; then
  cargo build --quiet --release --target "$target"
elif [ -x /usr/bin/rustc ] && [ -d /usr/lib/rustlib/src/rust/library ]; then
  # Debian's web toolchain: a rustc whose std sources are installed; build std for wasm32.
  PATH="/usr/bin:$PATH" RUSTC_BOOTSTRAP=1 /usr/bin/cargo build --quiet --release --target "$target" \
    -Zbuild-std=std,panic_abort --config "target.$target.linker=\"wasm-ld\""
else
  echo "no Rust toolchain for $target: run 'rustup target add $target'," >&2
  echo "or on Debian 'apt-get install rustc-web cargo-web rust-web-src lld'" >&2
  exit 1
fi

mkdir -p dist
if ! command -v wasm-tools >/dev/null && [ -n "${PORTCULLIS_COMPONENT_NEW:-}" ]; then
  "$PORTCULLIS_COMPONENT_NEW" "$core" dist/risk-based.wasm
  echo "built dist/risk-based.wasm ($(wc -c < dist/risk-based.wasm) bytes)"
  exit 0
fi
if command -v wasm-tools >/dev/null; then
  wasm_tools=wasm-tools
else
  wasm_tools="$tools/bin/wasm-tools"
  if [ ! -x "$wasm_tools" ] || ! "$wasm_tools" --version | grep -q "$WASM_TOOLS_VERSION"; then
    echo "installing wasm-tools $WASM_TOOLS_VERSION into $tools (once)" >&2
    env -u CARGO_TARGET_DIR cargo install --quiet --locked --force --root "$tools" \
      "wasm-tools@$WASM_TOOLS_VERSION" --no-default-features --features component,validate
  fi
fi

"$wasm_tools" component new "$core" -o dist/risk-based.wasm
"$wasm_tools" validate --features component-model dist/risk-based.wasm
echo "built dist/risk-based.wasm ($(wc -c < dist/risk-based.wasm) bytes)"
