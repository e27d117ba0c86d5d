#!/usr/bin/env bash
# Set fixloop up on a fresh Debian machine, as root. Idempotent.
#   scripts/setup.sh         the Python environment (.venv) with fixloop installed (with its
#                            memory extra, at the versions in constraints.txt)
#   scripts/setup.sh --sandbox  that, plus a Docker engine (started if none answers) and the
#                            sandbox image: what `fixloop fix` needs
#   scripts/setup.sh --all   that, plus what the test suite drives for real: Neovim, a Docker
#                            engine (started if none answers), the sandbox image, and
#                            VS Code (code-server, Chromium) with the extension built
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { echo "setup: $*" >&2; }
apt_updated=0
apt_install() {
    if ((apt_updated == 0)); then
        apt-get update -qq
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

python=${PYTHON:-python3}
if ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
    say "installing python3-venv"
    apt_install python3-venv
fi
if [[ ! -x .venv/bin/python ]]; then
    say "creating .venv"
    "$python" -m venv .venv
fi
say "installing fixloop (with its memory) and the tested versions of its dependencies into .venv"
# constraints.txt pins what pyproject.toml's ranges resolve to here, as CI tested it.
.venv/bin/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[memory,dev]'

if [[ "${1:-}" == "--all" ]]; then
    command -v nvim >/dev/null || { say "installing neovim"; apt_install neovim; }
    command -v node >/dev/null || { say "installing nodejs"; apt_install nodejs npm; }
    bash scripts/ensure-docker.sh
    bash scripts/setup-vscode.sh  # Node 24, code-server, chromium; builds the .vsix
elif [[ "${1:-}" == "--sandbox" ]]; then
    bash scripts/ensure-docker.sh
fi
say "ready"
