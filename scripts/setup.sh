#!/usr/bin/env bash
# Set up a development environment: a Python 3.12 virtual environment in .venv with normsim
# and every optional part (viz, sweeps, notebooks, end-to-end browser tests), and, as root on
# Debian, the Chromium the browser tests drive. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.12}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[all]"

# Debian's Chromium for the end-to-end viz test (Playwright drives it; no browser download).
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
echo "setup done: $(.venv/bin/python --version), normsim $(.venv/bin/normsim --version)"
