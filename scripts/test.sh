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
# Two workers on the CI machine's 2 cores (pytest-xdist), a test file per worker at a time: the browser
# tests wait on Chromium, the pipeline tests on the CPU, so they overlap (measured: 480 s serial, 349 s).
python -m pytest -n "${ATLAS_TEST_WORKERS:-2}" --dist loadfile "$@"
