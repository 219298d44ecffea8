#!/usr/bin/env bash
# Sourced by run.sh and test.sh: a virtual environment for the project, so the set-up works with
# Debian's own /usr/bin/python3, which refuses a bare `pip install` (PEP 668, "externally managed").
#
#   atlas_venv [--no-install] [EXTRAS]   create $ATLAS_VENV (default .venv) with the python3 on PATH,
#                                        install the project (with EXTRAS, e.g. "test,serve") into it,
#                                        and put its bin/ first on PATH.
# Debian's python3-venv is installed with apt when `python3 -m venv` is missing.

ATLAS_VENV="${ATLAS_VENV:-.venv}"

atlas_apt_install() {
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "Installing Debian packages: $*"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@"
}

atlas_venv() {
  local install=1
  if [ "${1:-}" = "--no-install" ]; then install=0; shift; fi
  local extras="${1:-}"
  if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "Python 3.11 or newer is needed as python3 (found: $(python3 --version 2>&1))." >&2
    return 1
  fi
  if [ ! -x "$ATLAS_VENV/bin/python" ]; then
    if ! python3 -m venv "$ATLAS_VENV" >/dev/null 2>&1; then
      rm -rf "$ATLAS_VENV"
      atlas_apt_install python3-venv
      python3 -m venv "$ATLAS_VENV"
    fi
  fi
  export VIRTUAL_ENV="$(cd "$ATLAS_VENV" && pwd)"
  export PATH="$VIRTUAL_ENV/bin:$PATH"
  if [ "$install" -eq 1 ]; then
    python -m pip install --quiet --disable-pip-version-check -e ".${extras:+[$extras]}"
  fi
}
