"""The project's own image as its sandbox: its Dockerfile, or its devcontainer's.

Chosen by the user (`sandbox.dockerfile`: a Dockerfile's path in the project, or
`devcontainer` for `.devcontainer/devcontainer.json`), never by an untrusted project: the
setting is restricted like the image itself (fixloop.trust), since the build runs the
project's instructions. The build is the project's as its contributors run it, network
included (a Dockerfile installs its packages); the tests then run in containers of the
image with no network, as in any sandbox. Built once per Dockerfile (and per set of
dependency files, which it often copies in); `fixloop sandbox prepare --force` builds again.

The image must have a Python fixloop's agent runs on (3.9 or later) with pytest: that is
checked once, with a message saying what to add when it is missing.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fixloop.sandbox.config import SandboxConfig
from fixloop.sandbox.prepare import (
    LABEL_AUTOLOAD,
    LABEL_KEY,
    LABEL_PATHS,
    LABEL_PROJECT,
    LABEL_PYTHON,
    Environment,
    PrepareError,
    Say,
    project_label,
    relabel,
)
from fixloop.sandbox.requirements import find_requirements

if TYPE_CHECKING:
    import docker

DEVCONTAINER = "devcontainer"
REPOSITORY = "fixloop-project"
REVISION = "1"
_DEVCONTAINER_FILES = (".devcontainer/devcontainer.json", ".devcontainer.json")
_STEP = re.compile(r"^Step (\d+)/(\d+) :")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# What the agent needs of the image's Python, asked once per image.
_PROBE = (
    "import sys, pytest; ok = sys.version_info >= (3, 9); "
    "print('%d.%d' % sys.version_info[:2], pytest.__version__, 'ok' if ok else 'old')"
)


@dataclass(frozen=True)
class ImageSource:
    """Where the project's image comes from: a Dockerfile to build in a context, or an
    image a devcontainer names."""

    described_by: Path  # the Dockerfile or devcontainer.json, for messages and the key
    dockerfile: Path | None = None
    context: Path | None = None
    image: str | None = None


def image_source(root: Path, setting: str) -> ImageSource:
    """What `sandbox.dockerfile` names in the project (raises PrepareError when it names
    nothing usable)."""
    root = root.resolve()
    if setting.strip() == DEVCONTAINER:
        return _devcontainer(root)
    dockerfile = _inside(root, root / setting, "sandbox.dockerfile")
    if not dockerfile.is_file():
        raise PrepareError(f"sandbox.dockerfile: no such file in the project: {setting}")
    return ImageSource(dockerfile, dockerfile=dockerfile, context=root)


def _devcontainer(root: Path) -> ImageSource:
    found = next((root / name for name in _DEVCONTAINER_FILES if (root / name).is_file()), None)
    if found is None:
        raise PrepareError(
            "sandbox.dockerfile is `devcontainer`, and the project has no "
            ".devcontainer/devcontainer.json"
        )
    try:
        spec = json.loads(_without_comments(found.read_text(encoding="utf-8")))
    except (ValueError, OSError) as error:
        raise PrepareError(f"cannot read {found.relative_to(root)}: {error}") from error
    build = spec.get("build") if isinstance(spec.get("build"), dict) else {}
    named = build.get("dockerfile") or spec.get("dockerFile")
    if isinstance(named, str):
        folder = found.parent
        dockerfile = _inside(root, folder / named, str(found.relative_to(root)))
        context = _inside(root, folder / str(build.get("context", ".")), "its build context")
        if not dockerfile.is_file():
            raise PrepareError(f"{found.relative_to(root)} names a missing Dockerfile: {named}")
        return ImageSource(found, dockerfile=dockerfile, context=context)
    if isinstance(spec.get("image"), str) and spec["image"].strip():
        return ImageSource(found, image=spec["image"].strip())
    raise PrepareError(
        f"{found.relative_to(root)} names neither an image nor a Dockerfile to build "
        "(Docker Compose devcontainers are not supported)"
    )


def _inside(root: Path, path: Path, what: str) -> Path:
    resolved = path.resolve()
    if not resolved.is_relative_to(root):
        raise PrepareError(f"{what} points outside the project: {path}")
    return resolved


def _without_comments(text: str) -> str:
    """JSON with comments (devcontainer.json's format) as JSON: // and /* */ outside strings
    removed, and trailing commas before a closing bracket."""
    out: list[str] = []
    index, length = 0, len(text)
    while index < length:
        char = text[index]
        if char == '"':
            end = index + 1
            while end < length and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            out.append(text[index : end + 1])
            index = end + 1
        elif text.startswith("//", index):
            index = text.find("\n", index)
            index = length if index < 0 else index
        elif text.startswith("/*", index):
            end = text.find("*/", index + 2)
            index = length if end < 0 else end + 2
        else:
            out.append(char)
            index += 1
    return re.sub(r",(\s*[}\]])", r"\1", "".join(out))


def project_environment(
    client: docker.DockerClient,
    config: SandboxConfig,
    root: Path,
    say: Say | None = None,
    *,
    force: bool = False,
) -> Environment:
    """The environment of the project's own image: built when missing (or `force`)."""
    import docker.errors

    root = root.resolve()
    say = say or (lambda message: None)
    source = image_source(root, config.dockerfile)
    requirements = find_requirements(root)
    if source.image is not None:
        reference = source.image
        try:
            client.images.get(reference)
        except docker.errors.ImageNotFound:
            say(f"preparing the sandbox: pulling the project's image {reference}")
            _pull(client, reference)
        return _checked(client, reference, requirements.source_paths, prepared_now=False)
    key = _key(root, source, requirements.digest())
    reference = f"{REPOSITORY}:{key}"
    if not force:
        try:
            image = client.images.get(reference)
        except docker.errors.ImageNotFound:
            pass
        else:
            return _from_image(reference, image.labels or {}, requirements.source_paths)
    relative = source.described_by.relative_to(root)
    say(f"preparing the sandbox: building the project's image ({relative})")
    labels = {
        LABEL_KEY: key,
        LABEL_PROJECT: project_label(root),
        LABEL_PATHS: ":".join(requirements.source_paths),
    }
    _build(client, source, reference, labels, say)
    environment = _checked(client, reference, requirements.source_paths, prepared_now=True)
    relabel(client, reference, {**labels, LABEL_PYTHON: environment.python})
    return environment


def _key(root: Path, source: ImageSource, dependencies: str) -> str:
    digest = hashlib.sha256(f"{REVISION}\0{root}\0{dependencies}\0".encode())
    for path in (source.described_by, source.dockerfile):
        if path is not None:
            digest.update(str(path).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:20]


def _build(
    client: docker.DockerClient,
    source: ImageSource,
    reference: str,
    labels: dict[str, str],
    say: Say,
) -> None:
    import docker.errors

    assert source.dockerfile is not None and source.context is not None
    # A path in the context, where it is one; docker-py sends one outside it along.
    inside = source.dockerfile.is_relative_to(source.context)
    dockerfile = os.path.relpath(source.dockerfile, source.context) if inside else None
    output = io.StringIO()
    try:
        for chunk in client.api.build(
            path=str(source.context),
            dockerfile=dockerfile or str(source.dockerfile),
            tag=reference,
            labels=labels,
            rm=True,
            forcerm=True,
            decode=True,
        ):
            text = _ANSI.sub("", str(chunk.get("stream", "")))
            output.write(text)
            if found := _STEP.match(text):
                say(
                    f"preparing the sandbox: building the project's image "
                    f"(step {found.group(1)} of {found.group(2)})"
                )
            if "error" in chunk:
                tail = " ".join(output.getvalue().strip().splitlines()[-3:])
                raise PrepareError(
                    f"cannot build the project's image from {source.dockerfile.name}: "
                    f"{str(chunk['error']).strip()} ({tail})"
                )
    except docker.errors.APIError as error:
        raise PrepareError(f"cannot build the project's image: {error}") from error


def _pull(client: docker.DockerClient, reference: str) -> None:
    import docker.errors

    try:
        client.images.pull(reference)
    except docker.errors.DockerException as error:
        raise PrepareError(f"cannot pull the project's image {reference}: {error}") from error


def _checked(
    client: docker.DockerClient, reference: str, paths: tuple[str, ...], *, prepared_now: bool
) -> Environment:
    """The image, once it is known to run fixloop's agent and pytest."""
    import docker.errors

    try:
        output = client.containers.run(
            reference, ["python3", "-c", _PROBE], remove=True, network_mode="none"
        )
        python, pytest_version, verdict = output.decode().split()
    except (docker.errors.DockerException, ValueError) as error:
        stderr = getattr(error, "stderr", None)
        detail = stderr.decode(errors="replace") if isinstance(stderr, bytes) else str(error)
        raise PrepareError(
            f"the project's image {reference} cannot run the tests: it needs python3 with "
            f"pytest (add `RUN pip install pytest`): {detail.strip()[-300:]}"
        ) from error
    if verdict != "ok":
        raise PrepareError(f"the project's image {reference} runs Python {python}: 3.9+ needed")
    notes = (f"the project's own image, pytest {pytest_version}",)
    return Environment(
        reference, paths, autoload_plugins=True, prepared_now=prepared_now, python=python,
        notes=notes,
    )  # fmt: skip


def _from_image(reference: str, labels: dict[str, Any], paths: tuple[str, ...]) -> Environment:
    return Environment(
        reference,
        paths,
        autoload_plugins=labels.get(LABEL_AUTOLOAD, "1") == "1",
        python=str(labels.get(LABEL_PYTHON, "")),
        notes=("the project's own image",),
    )
