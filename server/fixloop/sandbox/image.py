"""The sandbox image: is it there and current, and building it (registry or offline)."""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from enum import StrEnum
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from fixloop.sandbox.config import SandboxConfig
from fixloop.sandbox.engine import engine_url
from fixloop.sandbox.errors import ImageMissing, SandboxError

if TYPE_CHECKING:
    import docker

# Bump when build/Dockerfile* or build/build-offline.sh change what the image contains: an
# image with another revision label is rebuilt by `fixloop sandbox build`.
IMAGE_REVISION = "1"
REVISION_LABEL = "fixloop.sandbox.revision"
BUILD_HINT = (
    "build it with `fixloop sandbox build --offline` "
    "(or without --offline where a registry is reachable)"
)
# A build step silent for this long is said to be still going.
QUIET_SECONDS = 20.0
_STEP = re.compile(r"^Step \d+/\d+ :")

Say = Callable[[str], None]


class ImageState(StrEnum):
    CURRENT = "current"
    OUTDATED = "outdated"
    MISSING = "missing"


def image_state(client: docker.DockerClient, config: SandboxConfig) -> ImageState:
    import docker.errors

    try:
        image = client.images.get(config.image_ref)
    except docker.errors.ImageNotFound:
        return ImageState.MISSING
    labels = image.labels or {}
    current = labels.get(REVISION_LABEL) == IMAGE_REVISION
    return ImageState.CURRENT if current else ImageState.OUTDATED


def require_image(client: docker.DockerClient, config: SandboxConfig) -> None:
    """Raise ImageMissing, with the command that fixes it, unless the image is usable."""
    state = image_state(client, config)
    if state == ImageState.MISSING:
        raise ImageMissing(f"the sandbox image {config.image_ref} is missing: {BUILD_HINT}")
    if state == ImageState.OUTDATED:
        raise ImageMissing(
            f"the sandbox image {config.image_ref} is older than this fixloop "
            f"(revision {IMAGE_REVISION} needed): {BUILD_HINT}"
        )


def build_context() -> Path:
    """The folder holding the Dockerfiles and the offline build: package data of fixloop
    (`fixloop/sandbox/build/`), so an installed wheel builds the same image as a checkout.
    FIXLOOP_SANDBOX_CONTEXT overrides it."""
    override = os.environ.get("FIXLOOP_SANDBOX_CONTEXT")
    if override:
        context = Path(override)
    else:  # fixloop is installed as files, never zipped: the resource is a real folder
        context = Path(str(resources.files("fixloop.sandbox").joinpath("build")))
    if not (context / "Dockerfile").is_file():
        raise SandboxError(
            f"the sandbox build files are not at {context}: reinstall fixloop (they ship "
            "in its package) or set FIXLOOP_SANDBOX_CONTEXT to a folder holding them"
        )
    return context


def build_image(
    client: docker.DockerClient,
    config: SandboxConfig,
    *,
    offline: bool,
    force: bool = False,
    say: Say | None = None,
) -> bool:
    """Build the image unless a current one is present; True when a build ran. Each
    stage is said as it starts, and a stage silent for a while is said to go on."""
    if not force and image_state(client, config) == ImageState.CURRENT:
        return False
    context = build_context()
    with _Progress(say or (lambda message: None), QUIET_SECONDS) as progress:
        if offline:
            _build_offline(context, config, progress)
        else:
            _build_from_registry(client, context, config, progress)
    return True


class _Progress:
    """Says each stage of a build; when nothing was said for QUIET_SECONDS, says that the
    current stage is still going (a debootstrap or an image import is silent for minutes)."""

    def __init__(self, say: Say, quiet_seconds: float) -> None:
        self._say = say
        self._quiet = quiet_seconds
        self._stage = "starting"
        self._last = self._stage_started = time.monotonic()
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._watcher = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> _Progress:
        self._watcher.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._done.set()
        self._watcher.join()

    def stage(self, message: str) -> None:
        with self._lock:
            self._stage, self._stage_started = message, time.monotonic()
        self.line(message)

    def line(self, message: str) -> None:
        with self._lock:
            self._last = time.monotonic()
            self._say(message)

    def _watch(self) -> None:
        while not self._done.wait(min(self._quiet, 5.0)):
            with self._lock:
                now = time.monotonic()
                if now - self._last >= self._quiet:
                    self._last = now
                    self._say(f"{self._stage}: still going ({now - self._stage_started:.0f} s)")


def _build_from_registry(
    client: docker.DockerClient, context: Path, config: SandboxConfig, progress: _Progress
) -> None:
    progress.stage(f"docker build of {context / 'Dockerfile'} -> {config.image_ref}")
    chunks = client.api.build(
        path=str(context),
        dockerfile="Dockerfile",
        tag=config.image_ref,
        buildargs={"REVISION": IMAGE_REVISION},
        forcerm=True,  # no container left by a failed step either
        decode=True,
    )
    for chunk in chunks:
        if "error" in chunk:
            raise SandboxError(f"docker build failed: {str(chunk['error']).strip()}")
        text = str(chunk.get("stream", "")).strip()
        if _STEP.match(text):
            progress.stage(text)


def _build_offline(context: Path, config: SandboxConfig, progress: _Progress) -> None:
    environment = {
        **os.environ,
        "DOCKER_HOST": engine_url(config),
        "FIXLOOP_IMAGE_REVISION": IMAGE_REVISION,
    }
    script = context / "build-offline.sh"
    progress.stage(f"offline build ({script}) -> {config.image_ref}")
    tail: deque[str] = deque(maxlen=20)
    # bash, not the file itself: an installed package need not keep the executable bit.
    with subprocess.Popen(
        ["bash", str(script), config.image_ref],
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    ) as child:
        assert child.stdout is not None
        _relay(child.stdout, progress, tail)
        code = child.wait()
    if code != 0:
        last = "\n".join(tail)
        raise SandboxError(f"{script} failed with exit code {code}; its last lines:\n{last}")


def _relay(lines: Iterable[str], progress: _Progress, tail: deque[str]) -> None:
    """The script's own steps as stages; of its tools' lines, the first of each kind in a
    stage (debootstrap says `I: Retrieving …` and `I: Validating …` for every package)."""
    seen: set[tuple[str, ...]] = set()
    for raw in lines:
        line = raw.rstrip()
        if not line:
            continue
        tail.append(line)
        if line.startswith("build-offline: "):
            progress.stage(line.removeprefix("build-offline: "))
            seen.clear()
            continue
        kind = tuple(line.split()[:2])
        if kind not in seen or line.startswith(("E:", "W:")):
            progress.line(line)
        seen.add(kind)
