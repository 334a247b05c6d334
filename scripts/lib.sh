# Shared helpers for scripts/demo and scripts/test (sourced, not run).

need_rust() {
  if ! command -v cargo >/dev/null 2>&1; then
    echo "Portcullis needs Rust 1.95 or newer (https://rustup.rs): install it, then run this again." >&2
    exit 1
  fi
}

# Installs the Debian packages given as arguments when any is missing.
apt_install() {
  local missing=()
  for p in "$@"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "Installing Debian packages: ${missing[*]}"
  local sudo="" log
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  # apt and dpkg talk a lot even with -qq; keep it in a file and show it only on failure.
  log=$(mktemp)
  if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
      -o Dpkg::Use-Pty=0 --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "Installing ${missing[*]} failed (above)." >&2
    return 1
  fi
  rm -f "$log"
}

# Packages needed to build Portcullis.
# samael (SAML) binds libxmlsec1 with bindgen, which needs libclang.
BUILD_PACKAGES=(build-essential pkg-config ca-certificates libclang-dev libxml2-dev libxmlsec1-dev libssl-dev)

# Node.js >= 20 for the browser tests (playwright-core): Debian's when it is new enough,
# otherwise the `node` package from the npm registry, put first on PATH.
need_node() {
  command -v npm >/dev/null 2>&1 || apt_install nodejs npm
  local major
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$major" -lt 20 ]; then
    echo "Node.js $major is too old for the browser tests; fetching Node.js 20 from the npm registry"
    npm install --no-audit --no-fund --silent --prefix "$PWD/tests/browser/.node" node@20
    export PATH="$PWD/tests/browser/.node/node_modules/.bin:$PATH"
  fi
}
