#!/usr/bin/env bash
# Install everything the test suite needs on a fresh Debian machine, then run it.
# Used by the README's test command and by .ci/run. Safe to run repeatedly.
# Debian packages come from apt (as root, or with sudo): chromium, chromium-driver, poppler-utils,
# redis-server, and python3-venv when missing; Python packages go into .venv (scripts/venv.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
command -v pdftotext >/dev/null 2>&1 || need_apt+=(poppler-utils)
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)  # tests/serve/test_serving.py
if [ ${#need_apt[@]} -gt 0 ]; then
  atlas_apt_install "${need_apt[@]}"
fi

atlas_venv "test,serve"
python -m ruff check dashboard tests benchmarks app.py
python -m pytest "$@"
