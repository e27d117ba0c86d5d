"""Connecting to the Docker engine: DOCKER_HOST honoured, failures explained."""

from __future__ import annotations

import os
import shutil
from typing import TYPE_CHECKING

from fixloop.sandbox.config import SandboxConfig
from fixloop.sandbox.errors import DockerUnavailable

if TYPE_CHECKING:
    import docker

DEFAULT_SOCKET = "unix:///var/run/docker.sock"
API_TIMEOUT_SECONDS = 60
START_HINT = (
    "start it (`sudo systemctl start docker`, or `scripts/ensure-docker.sh` on a machine "
    "without systemd)"
)


def engine_url(config: SandboxConfig) -> str:
    return config.docker_host or os.environ.get("DOCKER_HOST") or DEFAULT_SOCKET


def connect(config: SandboxConfig) -> docker.DockerClient:
    """A client that has answered a ping, or DockerUnavailable saying how to fix it."""
    try:
        import docker
        import docker.errors
    except ImportError as error:
        raise DockerUnavailable(
            "the Python Docker SDK is not installed: `pip install docker`"
        ) from error
    url = engine_url(config)
    environment = {**os.environ, "DOCKER_HOST": url}
    try:
        client = docker.from_env(environment=environment, timeout=API_TIMEOUT_SECONDS)
        client.ping()
    except docker.errors.DockerException as error:
        raise DockerUnavailable(explain_unreachable(url, error)) from error
    return client


def explain_unreachable(url: str, error: Exception) -> str:
    if url.startswith("unix://"):
        socket_path = url.removeprefix("unix://")
        if shutil.which("dockerd") is None and shutil.which("docker") is None:
            return (
                "Docker is not installed: install Docker Engine "
                "(`apt-get install docker.io`, or `scripts/ensure-docker.sh`) to test fixes"
            )
        if not os.path.exists(socket_path):
            return f"the Docker daemon is not running (no socket at {socket_path}): {START_HINT}"
        if not os.access(socket_path, os.R_OK | os.W_OK):
            return (
                f"no permission to use {socket_path}: add your user to the `docker` group "
                "(`sudo usermod -aG docker $USER`, then log in again)"
            )
    return f"the Docker engine at {url} does not answer ({error}): {START_HINT}, or fix DOCKER_HOST"
