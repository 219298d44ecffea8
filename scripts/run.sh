#!/usr/bin/env bash
# Install the dashboard in a virtual environment (.venv) and run it on its embedded data:
#   bash scripts/run.sh [--host 0.0.0.0] [--port 8050]
# Works with Debian's own python3 (see scripts/venv.sh). Then open http://127.0.0.1:8050.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
atlas_venv
exec python app.py "$@"
