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
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# Packages needed to build Portcullis.
BUILD_PACKAGES=(build-essential pkg-config ca-certificates)
