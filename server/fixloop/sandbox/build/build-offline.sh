#!/usr/bin/env bash
# Build the fixloop sandbox image without an image registry:
#   debootstrap a minimal Debian (python3, pytest, hypothesis, nodejs) from the apt mirror
#   this machine already uses -> docker import as the base -> a small docker build on top
#   (Dockerfile.offline: non-root user, work area, labels), with no network.
# Usage: bash build-offline.sh [IMAGE[:TAG]]   (default fixloop-sandbox:latest)
# Env:   FIXLOOP_DEBIAN_MIRROR (default: the first Debian URI in /etc/apt/sources.list*)
#        FIXLOOP_DEBIAN_SUITE (default bookworm), FIXLOOP_IMAGE_REVISION (label value)
#        FIXLOOP_REBUILD_BASE=1 to debootstrap again even if the base image exists.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
image="${1:-fixloop-sandbox:latest}"
suite="${FIXLOOP_DEBIAN_SUITE:-bookworm}"
revision="${FIXLOOP_IMAGE_REVISION:-1}"  # keep in step with IMAGE_REVISION in image.py
base="fixloop-sandbox-base:$suite"
packages="python3,python3-pytest,python3-hypothesis,nodejs"

say() { echo "build-offline: $*" >&2; }

detect_mirror() {
    # deb822 (URIs: ...) or one-line (deb URL suite ...) sources; skip the security archive.
    local files=(/etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list)
    {
        grep -h '^URIs:' "${files[@]}" 2>/dev/null | awk '{print $2}'
        grep -h '^deb ' "${files[@]}" 2>/dev/null | awk '{print $2}'
    } | grep -E '/debian/?$' | grep -v security | head -n 1
}

build_base() {
    local mirror="${FIXLOOP_DEBIAN_MIRROR:-$(detect_mirror)}"
    [[ -n "$mirror" ]] || { say "no Debian mirror found in /etc/apt; set FIXLOOP_DEBIAN_MIRROR"; exit 1; }
    rootfs="$(mktemp -d /var/tmp/fixloop-rootfs.XXXXXX)"  # global: the EXIT trap reads it
    trap 'rm -rf "$rootfs"' EXIT
    say "debootstrap $suite from $mirror (a few minutes)"
    debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs" "$mirror" >&2
    # Keep the image small: package caches, docs and man pages are not needed to run tests.
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
        "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/*
    say "docker import -> $base"
    tar -C "$rootfs" -c . | docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' - "$base" >/dev/null
}

if [[ "${FIXLOOP_REBUILD_BASE:-0}" == 1 ]] || ! docker image inspect "$base" >/dev/null 2>&1; then
    build_base
else
    say "reusing $base"
fi

say "docker build -> $image"
docker build --network none -q \
    --build-arg "BASE=$base" --build-arg "REVISION=$revision" \
    -f "$here/Dockerfile.offline" -t "$image" "$here" >/dev/null
say "built $image"
