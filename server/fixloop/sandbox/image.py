"""The sandbox image: is it there and current, and building it (registry or offline)."""

from __future__ import annotations

import os
import subprocess
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from fixloop.sandbox.config import SandboxConfig
from fixloop.sandbox.engine import engine_url
from fixloop.sandbox.errors import ImageMissing, SandboxError

if TYPE_CHECKING:
    import docker

# Bump when sandbox/Dockerfile* or build-offline.sh change what the image contains: an
# image with another revision label is rebuilt by `fixloop sandbox build`.
IMAGE_REVISION = "1"
REVISION_LABEL = "fixloop.sandbox.revision"
BUILD_HINT = (
    "build it with `fixloop sandbox build --offline` "
    "(or without --offline where a registry is reachable)"
)


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
    """The `sandbox/` directory holding the Dockerfiles (FIXLOOP_SANDBOX_CONTEXT overrides)."""
    override = os.environ.get("FIXLOOP_SANDBOX_CONTEXT")
    context = Path(override) if override else Path(__file__).resolve().parents[3] / "sandbox"
    if not (context / "Dockerfile").is_file():
        raise SandboxError(
            f"the sandbox build files are not at {context}: run from a fixloop checkout "
            "or set FIXLOOP_SANDBOX_CONTEXT to its sandbox/ directory"
        )
    return context


def build_image(
    client: docker.DockerClient, config: SandboxConfig, *, offline: bool, force: bool = False
) -> bool:
    """Build the image unless a current one is present; True when a build ran."""
    if not force and image_state(client, config) == ImageState.CURRENT:
        return False
    context = build_context()
    if offline:
        _build_offline(context, config)
    else:
        client.images.build(
            path=str(context),
            dockerfile="Dockerfile",
            tag=config.image_ref,
            buildargs={"REVISION": IMAGE_REVISION},
            rm=True,
        )
    return True


def _build_offline(context: Path, config: SandboxConfig) -> None:
    environment = {
        **os.environ,
        "DOCKER_HOST": engine_url(config),
        "FIXLOOP_IMAGE_REVISION": IMAGE_REVISION,
    }
    script = context / "build-offline.sh"
    completed = subprocess.run(
        [str(script), config.image_ref], env=environment, check=False, text=True
    )
    if completed.returncode != 0:
        raise SandboxError(f"{script} failed with exit code {completed.returncode}")
