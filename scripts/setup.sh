#!/usr/bin/env bash
# Installs everything Housing Intake needs on Debian: system packages, then a virtualenv in .venv.
#   scripts/setup.sh          the service
#   scripts/setup.sh --test   the service and what its test suite needs
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing_packages() {
  grep -v '^\s*#' scripts/debian-packages.txt | while read -r pkg; do
    [ -n "$pkg" ] || continue
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || echo "$pkg"
  done
}

install_debian_packages() {
  local missing
  missing=$(missing_packages | tr '\n' ' ')
  if [ -n "${missing// }" ]; then
    echo "setup: installing Debian packages: $missing"
    # Another apt run (unattended-upgrades on a new machine) may hold the package lock: wait for it
    # (up to ten minutes) rather than fail at once.
    as_root apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get -o DPkg::Lock::Timeout=600 install -y -qq $missing >/dev/null
  fi
}

install_python() {
  local python="${PYTHON:-python3}"
  [ -x .venv/bin/python ] || "$python" -m venv .venv
  .venv/bin/pip install -q --upgrade pip
  if [ "${1:-}" = "--test" ]; then
    .venv/bin/pip install -q -e '.[test]'
  else
    .venv/bin/pip install -q -e .
  fi
}

install_debian_packages
install_python "${1:-}"
echo "setup: ready (.venv)"
