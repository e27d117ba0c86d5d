#!/usr/bin/env bash
# Make a Docker engine and the fixloop sandbox image available, from nothing, on Debian.
# Idempotent: each step is skipped when its result is already there. Run as root.
#   - installs docker.io and debootstrap if missing (one apt-get update at most)
#   - starts dockerd in the background if no engine answers, listening on the unix
#     socket and on tcp://127.0.0.1:2375 (loopback only: the DOCKER_HOST test uses it)
#   - builds the sandbox image offline (server/fixloop/sandbox/build/build-offline.sh) if
#     it is not current
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log_file="${FIXLOOP_DOCKERD_LOG:-/var/log/fixloop-dockerd.log}"
tcp_host="tcp://127.0.0.1:2375"

say() { echo "ensure-docker: $*" >&2; }

install_missing_packages() {
    local missing=()
    command -v dockerd >/dev/null || missing+=(docker.io)
    command -v debootstrap >/dev/null || missing+=(debootstrap)
    if ((${#missing[@]})); then
        say "installing ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    fi
}

engine_answers() { docker -H "${1:-unix:///var/run/docker.sock}" info >/dev/null 2>&1; }

start_dockerd() {
    # Extra flags ($@) are for a retry: a CI container may not allow iptables; the sandbox
    # needs no network at all (network_mode=none, builds with --network none).
    say "starting dockerd $* (log: $log_file)"
    # setsid: the daemon must outlive this script and the shell that ran it. --tls=false:
    # Docker >= 27 refuses a TCP listener without TLS unless told; it is loopback only.
    setsid dockerd -H unix:///var/run/docker.sock -H "$tcp_host" --tls=false "$@" \
        --pidfile /var/run/fixloop-dockerd.pid >>"$log_file" 2>&1 </dev/null &
    local daemon=$!
    for _ in $(seq 60); do
        engine_answers && return 0
        kill -0 "$daemon" 2>/dev/null || break
        sleep 1
    done
    say "dockerd did not answer; last log lines:"
    tail -n 20 "$log_file" >&2
    return 1
}

ensure_engine() {
    if engine_answers; then
        engine_answers "$tcp_host" ||
            say "warning: the running engine does not listen on $tcp_host (restart it with -H $tcp_host to test DOCKER_HOST)"
        return 0
    fi
    start_dockerd || start_dockerd --iptables=false --ip6tables=false --bridge=none
}

ensure_image() {
    local python="$here/.venv/bin/python"
    if [[ -x "$python" ]] && "$python" -c 'import fixloop.sandbox' 2>/dev/null; then
        PYTHONPATH="$here/server${PYTHONPATH:+:$PYTHONPATH}" \
            "$python" -m fixloop sandbox build --offline
    else
        bash "$here/server/fixloop/sandbox/build/build-offline.sh"
    fi
}

install_missing_packages
ensure_engine
ensure_image
say "ok"
