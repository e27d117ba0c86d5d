"""The project's own environment in the sandbox: an image derived from the sandbox's base
image with the project's dependencies (and its own metadata) installed, prepared once per
set of dependency files and reused.

How it is made, so that test runs keep no network and nothing of the project runs on the
host: the host downloads wheels only (`pip download --only-binary=:all:` for the
sandbox's Python and platform, with the user's own pip settings: index, proxy,
certificates); a `docker build --network none` installs them from that folder into a
virtual environment (`/opt/fixloop-env`, seeing the base image's pytest and hypothesis);
the project itself is then installed there as the image's unprivileged user, and its
code removed again, keeping its metadata and entry points: the tests always import the
code from the sandbox's copy of the project (`src/` first when it has one). The image is
named by a hash of what it installs: the second run finds it at once, a change to the
dependency files prepares again.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fixloop.sandbox import project as project_files
from fixloop.sandbox.config import SandboxConfig
from fixloop.sandbox.errors import SandboxError
from fixloop.sandbox.requirements import (
    Requirements,
    canonical,
    find_requirements,
    node_manifest,
)
from fixloop.sandbox.runner import ENV_PREFIX, NODE_MODULES

if TYPE_CHECKING:
    import docker

ENV_REPOSITORY = "fixloop-env"
# Bump when what a prepared image holds changes: older ones are prepared again.
PREPARE_REVISION = "5"
LABEL_KEY = "fixloop.env.key"
LABEL_PROJECT = "fixloop.env.project"
LABEL_PATHS = "fixloop.env.paths"
LABEL_AUTOLOAD = "fixloop.env.autoload"
LABEL_PACKAGES = "fixloop.env.packages"
LABEL_PYTHON = "fixloop.env.python"
LABEL_NOTES = "fixloop.env.notes"
LABEL_NODE = "fixloop.env.node"
LABEL_SWITCHES = "fixloop.env.pytest-switches"
LABEL_BASE_PLUGINS = "fixloop.env.base-plugins"
# pytest plugins whose work in a run is a report or a schedule, never a verdict, and the
# switch of each that turns it off in fixloop's runs. A project's `addopts = --cov`
# made a candidate's run of one 2 ms test take 2 s, and kept it out of the warm runner
# (coverage's tracer replaces the runner's); `-n auto` starts worker interpreters in
# every run; a benchmark repeats its test; a new random order in each run makes the runs
# compared (the code as it is, each candidate) run differently.
QUIETED_PLUGINS: dict[str, tuple[str, ...]] = {
    "pytest-cov": ("--no-cov",),
    "pytest-xdist": ("-n", "0"),
    "pytest-benchmark": ("--benchmark-disable",),
    "pytest-randomly": ("-p", "no:randomly"),
}
_PIP_ERROR = re.compile(r"^ERROR: (.*)$", re.MULTILINE)
_STEP = re.compile(r"^Step (\d+)/(\d+) :")

Say = Callable[[str], None]


class PrepareError(SandboxError):
    """The project's environment could not be prepared; the message names what failed."""


@dataclass(frozen=True)
class Platform:
    """What the sandbox's base image runs: which wheels fit it."""

    python: tuple[int, int]
    glibc: tuple[int, int]
    machine: str
    # The base image's own pytest plugins, (distribution, entry point): fixloop's tools
    # (hypothesis), which the venv of a project that does not install them never loads.
    pytest_plugins: tuple[tuple[str, str], ...] = ()

    @property
    def version(self) -> str:
        return f"{self.python[0]}.{self.python[1]}"

    def pip_options(self) -> list[str]:
        tag = f"cp{self.python[0]}{self.python[1]}"
        options = ["--python-version", self.version, "--implementation", "cp"]
        for abi in (tag, "abi3", "none"):
            options += ["--abi", abi]
        for minor in range(self.glibc[1], 4, -1):  # manylinux_2_36 … manylinux_2_5
            options += ["--platform", f"manylinux_2_{minor}_{self.machine}"]
        for legacy in ("manylinux2014", "manylinux2010", "manylinux1"):
            options += ["--platform", f"{legacy}_{self.machine}"]
        return options


@dataclass(frozen=True)
class Environment:
    """The image a project's tests run in, and how to run them there."""

    image_ref: str
    source_paths: tuple[str, ...] = ()
    autoload_plugins: bool = False  # the environment has pytest plugins: let pytest load them
    packages: int = 0
    prepared_now: bool = False
    python: str = ""
    notes: tuple[str, ...] = ()
    node_modules: bool = False  # the image holds the project's node packages
    # pytest arguments that turn off the image's plugins of QUIETED_PLUGINS.
    pytest_switches: tuple[str, ...] = ()
    # The base image's pytest plugins the project's environment does not install itself,
    # (distribution, entry point): see Platform.
    base_plugins: tuple[tuple[str, str], ...] = ()


def environment_for(
    client: docker.DockerClient,
    config: SandboxConfig,
    root: Path,
    say: Say | None = None,
    *,
    force: bool = False,
) -> Environment:
    """The project's environment: the base image when it needs nothing installed, else
    its prepared image, prepared now when missing (or when `force`)."""
    if config.dockerfile:  # the user chose the project's own image
        from fixloop.sandbox.project_image import project_environment

        return project_environment(client, config, root, say, force=force)
    requirements = find_requirements(root)
    node = node_manifest(root)
    if (requirements.empty and not node) or not config.prepare_environment:
        return Environment(config.image_ref, requirements.source_paths)
    base = client.images.get(config.image_ref)
    key = _key(requirements, node, str(base.id))
    reference = f"{ENV_REPOSITORY}:{key}"
    if not force and (existing := _existing(client, reference)) is not None:
        return existing
    say = say or (lambda message: None)
    platform = base_platform(client, config)
    if not requirements.empty:
        _check_python(requirements, platform)
    plan = _Plan(root, requirements, node, platform, reference)
    environment = _prepare(client, config, plan, say)
    _remove_older(client, root, reference)
    return environment


def _key(requirements: Requirements, node: tuple[Path, ...], base_id: str) -> str:
    digest = hashlib.sha256(f"{PREPARE_REVISION}\0{base_id}\0".encode())
    digest.update(requirements.digest().encode())
    for path in node:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:20]


@dataclass(frozen=True)
class _Plan:
    """What one preparation installs, and for which platform."""

    root: Path
    requirements: Requirements
    node: tuple[Path, ...]  # package.json (+ lock file) when node packages are wanted
    platform: Platform
    reference: str

    @property
    def python(self) -> bool:
        return not self.requirements.empty


def project_label(root: Path) -> str:
    return hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]


def _existing(client: docker.DockerClient, reference: str) -> Environment | None:
    import docker.errors

    try:
        image = client.images.get(reference)
    except docker.errors.ImageNotFound:
        return None
    return _from_labels(reference, image.labels or {})


def _from_labels(reference: str, labels: dict[str, str], now: bool = False) -> Environment:
    paths = tuple(p for p in labels.get(LABEL_PATHS, "").split(":") if p)
    notes = tuple(n for n in labels.get(LABEL_NOTES, "").split("\n") if n)
    return Environment(
        reference,
        paths,
        labels.get(LABEL_AUTOLOAD) == "1",
        int(labels.get(LABEL_PACKAGES, "0") or 0),
        now,
        labels.get(LABEL_PYTHON, ""),
        notes,
        labels.get(LABEL_NODE) == "1",
        tuple(labels.get(LABEL_SWITCHES, "").split()),
        tuple(_plugin_pair(item) for item in labels.get(LABEL_BASE_PLUGINS, "").split()),
    )


def _plugin_pair(item: str) -> tuple[str, str]:
    distribution, _, entry_point = item.partition("=")
    return distribution, entry_point


# --- the sandbox's platform -----------------------------------------------------------------

_PLATFORMS: dict[str, Platform] = {}
_PROBE = """
import importlib.metadata, json, platform, sys
plugins = sorted(
    (dist.metadata["Name"], entry.name)
    for dist in importlib.metadata.distributions()
    for entry in dist.entry_points
    if entry.group == "pytest11"
)
libc = (platform.libc_ver()[1] or "2.17").split(".")[:2]
print(json.dumps([sys.version_info[:2], libc, platform.machine(), plugins]))
"""


def base_platform(client: docker.DockerClient, config: SandboxConfig) -> Platform:
    """The base image's Python, C library and machine (asked once per image)."""
    image = client.images.get(config.image_ref)
    known = _PLATFORMS.get(str(image.id))
    if known is not None:
        return known
    output = client.containers.run(
        config.image_ref, ["python3", "-c", _PROBE], remove=True, network_mode="none"
    )
    (major, minor), (libc_major, libc_minor), machine, plugins = json.loads(output)
    found = Platform(
        (int(major), int(minor)),
        (int(libc_major), int(libc_minor)),
        str(machine),
        tuple((canonical(str(dist)), str(name)) for dist, name in plugins),
    )
    _PLATFORMS[str(image.id)] = found
    return found


def _check_python(requirements: Requirements, platform: Platform) -> None:
    spec = requirements.requires_python
    if not spec:
        return
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        fits = SpecifierSet(spec).contains(platform.version, prereleases=True)
    except InvalidSpecifier:
        return
    if not fits:
        raise PrepareError(
            f"the project needs Python {spec}, and the sandbox runs Python "
            f"{platform.version}: set `sandbox.image` (your own settings) to an image with "
            "a Python the project supports, built from the sandbox's Dockerfile"
        )


# --- preparing ----------------------------------------------------------------------------------


def _prepare(
    client: docker.DockerClient, config: SandboxConfig, plan: _Plan, say: Say
) -> Environment:
    requirements, platform = plan.requirements, plan.platform
    with tempfile.TemporaryDirectory(prefix="fixloop-env-") as folder:
        context = Path(folder)
        wheels = context / "wheels"
        wheels.mkdir()
        notes = list(requirements.notes)
        builds_project = plan.python and bool(requirements.build_requires)
        pip_wheel: str | None = None
        if plan.python:
            count = len(requirements.lines) + len(requirements.optional)
            say(f"preparing the sandbox: downloading {count} packages ({requirements.source})")
            _download(requirements, platform, wheels, plan.root, notes)
            if builds_project and not _download_backend(requirements, platform, wheels, notes):
                builds_project = False
            pip_wheel = _pip_wheel(wheels)
        packages = max(0, len(list(wheels.glob("*.whl"))) - 1)
        if plan.node:
            say(f"preparing the sandbox: installing {plan.node[0].name}'s packages with npm")
            packages += _npm_install(plan.node, context / "node_modules", plan.root)
        say(f"preparing the sandbox: installing {packages} packages")
        labels = {
            LABEL_KEY: plan.reference.split(":")[1],
            LABEL_PROJECT: project_label(plan.root),
            LABEL_PATHS: ":".join(requirements.source_paths),
            LABEL_AUTOLOAD: "1" if _has_pytest_plugins(wheels) else "0",
            LABEL_PACKAGES: str(packages),
            LABEL_PYTHON: platform.version,
            LABEL_NODE: "1" if plan.node else "0",
            LABEL_SWITCHES: " ".join(pytest_switches(wheels)),
            LABEL_BASE_PLUGINS: " ".join(f"{d}={e}" for d, e in base_plugins(platform, wheels)),
        }
        _write_context(context, config, plan, pip_wheel, builds_project)
        log = _build(client, context, plan.reference, labels, _steps(say, packages))
        notes += _project_notes(requirements, builds_project, log)
    if notes:  # a label, so that a reused image says the same
        relabel(client, plan.reference, {**labels, LABEL_NOTES: "\n".join(notes)})
        labels[LABEL_NOTES] = "\n".join(notes)
    say(f"the sandbox is prepared: {packages} packages (image {plan.reference})")
    return _from_labels(plan.reference, labels, now=True)


def _pip_wheel(wheels: Path) -> str:
    """pip's own wheel: it installs the others inside the image, which has no pip."""
    for wheel in sorted(wheels.glob("*.whl")):
        if canonical(wheel.name.split("-")[0]) == "pip":
            return wheel.name
    raise PrepareError("cannot prepare the sandbox: pip itself could not be downloaded")


def _npm_install(manifest: tuple[Path, ...], target: Path, root: Path) -> int:
    """The packages package.json declares, installed by the host's npm with the user's own
    npm settings (the project's .npmrc is not copied: where packages come from is the
    user's choice) and no install scripts (nothing of a package runs on the host)."""
    npm = shutil.which("npm")
    if npm is None:
        raise PrepareError(
            f"cannot prepare the sandbox for {root.name}: its package.json declares packages "
            "and they are not installed (no node_modules), and npm is not on this machine: "
            "install npm, or the packages (npm ci)"
        )
    with tempfile.TemporaryDirectory(prefix="fixloop-npm-") as folder:
        work = Path(folder)
        for path in manifest:
            shutil.copy2(path, work / path.name)
        locked = len(manifest) > 1
        command = [npm, "ci" if locked else "install", "--ignore-scripts", "--no-audit"]
        command += ["--no-fund", "--loglevel=error"]
        if not locked:
            command.append("--no-package-lock")
        completed = subprocess.run(command, cwd=work, capture_output=True, text=True, check=False)
        if completed.returncode != 0:
            lines = [line for line in completed.stderr.splitlines() if "ERR" in line][:4]
            raise PrepareError(
                f"cannot prepare the sandbox for {root.name}: `{' '.join(command[1:])}` failed: "
                + ("; ".join(lines) or completed.stderr.strip()[-300:])
            )
        shutil.move(str(work / "node_modules"), target)
    return sum(1 for _ in target.glob("*/package.json")) + sum(
        1 for _ in target.glob("@*/*/package.json")
    )


def _pip(arguments: list[str]) -> subprocess.CompletedProcess[str]:
    """The host's pip, as the user set it up (index, proxy, certificates)."""
    command = [sys.executable, "-m", "pip", *arguments]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def _download(
    requirements: Requirements, platform: Platform, wheels: Path, root: Path, notes: list[str]
) -> None:
    """The wheels of the requirements, the feature extras' too when they all have one."""
    if requirements.optional:
        try:
            everything = (*requirements.lines, *requirements.optional)
            _download_lines(replace(requirements, lines=everything), platform, wheels, root)
            return
        except PrepareError as error:
            notes.append(f"the extras' packages are not installed: {error}")
    for _ in range(_LEFT_OUT_ROUNDS):
        try:
            _download_lines(requirements, platform, wheels, root)
            return
        except _Unavailable as error:
            requirements = _without(requirements, error, platform, notes)
    _download_lines(requirements, platform, wheels, root)


# A tool of the tests or of development the sandbox cannot install (no wheel for its
# Python: pytest-pycodestyle, only ever published as a source archive) is left out, and
# said, rather than failing the project's preparation: its tests most often run without
# it. A dependency of the project's own code still fails it, named.
_LEFT_OUT_ROUNDS = 5
_NO_DISTRIBUTION = re.compile(r"No matching distribution found for ([A-Za-z0-9][A-Za-z0-9._-]*)")


class _Unavailable(PrepareError):
    """pip found no wheel of these distributions (canonical names)."""

    def __init__(self, message: str, names: set[str]) -> None:
        super().__init__(message)
        self.names = names


def _without(
    requirements: Requirements, error: _Unavailable, platform: Platform, notes: list[str]
) -> Requirements:
    """The requirements less the tools pip found no wheel of; the error again when one
    of them is the project's own dependency."""
    if error.names & set(requirements.runtime):
        raise PrepareError(str(error))
    kept: list[str] = []
    left: list[str] = []
    for line in requirements.lines:
        match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", line)
        (left if match and canonical(match.group(0)) in error.names else kept).append(line)
    if not left:
        raise PrepareError(str(error))
    notes.append(
        f"not installed: {', '.join(left)} (no wheel for Python {platform.version}; the "
        "sandbox installs wheels only): the tests run without it"
    )
    return replace(requirements, lines=tuple(kept))


def _download_lines(
    requirements: Requirements, platform: Platform, wheels: Path, root: Path
) -> None:
    lists = wheels.parent
    (lists / "requirements.txt").write_text("\n".join(requirements.lines) + "\n", encoding="utf-8")
    (lists / "constraints.txt").write_text(
        "\n".join(requirements.constraints) + "\n", encoding="utf-8"
    )
    lists_options = ["-r", str(lists / "requirements.txt"), "-c", str(lists / "constraints.txt")]
    arguments = [*_download_arguments(platform, wheels), *lists_options, "pip"]
    completed = _pip(arguments)
    if completed.returncode != 0:
        errors = _PIP_ERROR.findall(completed.stderr) or completed.stderr.strip().splitlines()[-3:]
        shown = " ".join(["pip", *arguments[:1], "--only-binary=:all:", "…", "-r", "…"])
        missing = {canonical(name) for name in _NO_DISTRIBUTION.findall(completed.stderr)}
        message = (
            f"cannot prepare the sandbox for {root.name}: {'; '.join(errors)} "
            f"(`{shown}` failed for Python {platform.version} on {platform.machine}; "
            f"the requirements came from {requirements.source}). The sandbox installs "
            "wheels only: a dependency that has none for this Python cannot be installed"
        )
        if missing:
            raise _Unavailable(message, missing)
        raise PrepareError(message)


def _download_arguments(platform: Platform, wheels: Path) -> list[str]:
    """pip download of wheels alone (no code of a package runs here) for the sandbox."""
    return [
        "download",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "--dest",
        str(wheels),
        *platform.pip_options(),
    ]


def _download_backend(
    requirements: Requirements, platform: Platform, wheels: Path, notes: list[str]
) -> bool:
    """The project's build backend, to install the project's own metadata (entry points,
    its version): without it the tests still run, from the copy of the project."""
    arguments = [*_download_arguments(platform, wheels), *requirements.build_requires]
    completed = _pip(arguments)
    if completed.returncode == 0:
        return True
    errors = _PIP_ERROR.findall(completed.stderr) or ["pip download failed"]
    notes.append(f"the project's own metadata is not installed: {errors[0]}")
    return False


def _has_pytest_plugins(wheels: Path) -> bool:
    """Whether a downloaded package is a pytest plugin (other than hypothesis, whose plugin
    the sandbox loads itself when the tests use it)."""
    for wheel in wheels.glob("*.whl"):
        if canonical(wheel.name.split("-")[0]) == "hypothesis":
            continue
        try:
            with zipfile.ZipFile(wheel) as archive:
                names = [n for n in archive.namelist() if n.endswith(".dist-info/entry_points.txt")]
                if any("[pytest11]" in archive.read(n).decode(errors="replace") for n in names):
                    return True
        except (OSError, zipfile.BadZipFile):
            continue
    return False


def base_plugins(platform: Platform, wheels: Path) -> list[tuple[str, str]]:
    """The base image's pytest plugins whose distribution the project does not install:
    the environment sees them (its venv sees the base image's packages, for pytest), the
    user's does not. Loaded, they change verdicts: hypothesis' hookwrapper around every
    test hid every failure from a pytest running a pluggy that broke old-style wrappers."""
    names = {canonical(wheel.name.split("-")[0]) for wheel in wheels.glob("*.whl")}
    return [(dist, entry) for dist, entry in platform.pytest_plugins if dist not in names]


def pytest_switches(wheels: Path) -> list[str]:
    """The switches of the downloaded packages that are plugins of QUIETED_PLUGINS."""
    names = {canonical(wheel.name.split("-")[0]) for wheel in wheels.glob("*.whl")}
    return [arg for name, switch in QUIETED_PLUGINS.items() if name in names for arg in switch]


_STRIP_PROJECT = """
import json, os, re, sys, sysconfig
name = re.sub(r"[-_.]+", "_", sys.argv[1]).lower()
site = sysconfig.get_paths()["purelib"]
for info in os.listdir(site):
    if info.endswith(".dist-info") and info.lower().startswith(name + "-"):
        with open(os.path.join(site, info, "RECORD")) as record:
            for line in record:
                path = line.rsplit(",", 2)[0]
                if ".dist-info/" not in path and not path.startswith(".."):
                    full = os.path.join(site, path)
                    if os.path.isfile(full):
                        os.remove(full)
                        folder = os.path.dirname(full)
                        while folder != site and not os.listdir(folder):
                            os.rmdir(folder)
                            folder = os.path.dirname(folder)
        print("stripped", info)
for entry in os.listdir(site):
    if entry.startswith("__editable__"):
        os.remove(os.path.join(site, entry))
"""


# pytest rewrites the asserts of every module of a distribution that registers a plugin
# (hypothesis: 77 modules), and in the sandbox, which writes no bytecode, it did so in every
# run: 0.5 s of a 0.8 s run of two dateutil tests. Rewritten once here, as the sandbox's
# user, their bytecode is cached beside them (`*-pytest-X.pyc`).
_REWRITE_TEST = """
import importlib
import importlib.metadata
import pkgutil
import warnings

from _pytest.config import _iter_rewritable_modules


def test_rewrite_plugin_distributions():
    warnings.simplefilter("ignore")
    for dist in importlib.metadata.distributions():
        if not any(entry.group == "pytest11" for entry in dist.entry_points):
            continue
        for name in _iter_rewritable_modules([str(f) for f in dist.files or ()]):
            try:
                module = importlib.import_module(name)
            except Exception:
                continue
            for info in pkgutil.walk_packages(getattr(module, "__path__", []), name + "."):
                try:
                    importlib.import_module(info.name)
                except Exception:
                    pass
"""


def _rewrite_plugins_step(context: Path) -> str:
    (context / "test_fixloop_rewrite.py").write_text(_REWRITE_TEST, encoding="utf-8")
    return (
        f"RUN env -u PYTHONDONTWRITEBYTECODE -u PYTEST_DISABLE_PLUGIN_AUTOLOAD "
        f"{ENV_PREFIX}/bin/python -m pytest -q -p no:cacheprovider --rootdir=/tmp/fixloop "
        "/tmp/fixloop/test_fixloop_rewrite.py > /dev/null 2>&1 || true"
    )


def _write_context(
    context: Path,
    config: SandboxConfig,
    plan: _Plan,
    pip_wheel: str | None,
    builds_project: bool,
) -> None:
    lines = [f"FROM {config.image_ref}", "USER root"]
    path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    environment = []
    if pip_wheel is not None:
        lines += _python_steps(context, config, plan, pip_wheel, builds_project)
        path = f"{ENV_PREFIX}/bin:{path}"
        environment.append(f"VIRTUAL_ENV={ENV_PREFIX}")
    if plan.node:
        lines.append(f"COPY node_modules {NODE_MODULES}")
        path = f"{NODE_MODULES}/.bin:{path}"
    lines += [f"ENV {' '.join([*environment, f'PATH={path}'])}", "USER 1000"]
    (context / "Dockerfile").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _python_steps(
    context: Path, config: SandboxConfig, plan: _Plan, pip_wheel: str, builds_project: bool
) -> list[str]:
    pip = f"{ENV_PREFIX}/bin/python /tmp/fixloop-wheels/{pip_wheel}/pip"
    offline = (
        "--no-index --find-links /tmp/fixloop-wheels --no-cache-dir --disable-pip-version-check"
    )
    (context / "strip_project.py").write_text(_STRIP_PROJECT, encoding="utf-8")
    rewrite = _rewrite_plugins_step(context)
    lines = [
        "COPY wheels /tmp/fixloop-wheels",
        "COPY requirements.txt constraints.txt strip_project.py test_fixloop_rewrite.py "
        "/tmp/fixloop/",
        f"RUN python3 -m venv --without-pip --system-site-packages {ENV_PREFIX} && "
        f"{pip} install {offline} -q -r /tmp/fixloop/requirements.txt "
        "-c /tmp/fixloop/constraints.txt",
        # The plugins' modules run as the sandbox's user, never as root.
        f"RUN chown -R 1000:1000 {ENV_PREFIX}",
        "USER 1000",
        rewrite,
    ]
    name = plan.requirements.project_name
    if builds_project and name:
        (context / "project").mkdir()
        _copy_project(plan.root, config, context / "project")
        # Its build runs the project's own code: as the unprivileged user, with no network.
        lines += [
            "COPY --chown=1000:1000 project /tmp/fixloop-project",
            f"RUN ({pip} install {offline} --no-deps -q /tmp/fixloop-project && "
            f"{ENV_PREFIX}/bin/python /tmp/fixloop/strip_project.py {name}) "
            f"> {ENV_PREFIX}/project-install.log 2>&1 "
            f"|| echo 'FIXLOOP-PROJECT-''NOT-INSTALLED' >> {ENV_PREFIX}/project-install.log; "
            f"cat {ENV_PREFIX}/project-install.log",
        ]
    lines += ["USER root", f"RUN chown -R root:root {ENV_PREFIX}"]
    lines.append("RUN rm -rf /tmp/fixloop-wheels /tmp/fixloop /tmp/fixloop-project")
    return lines


def _copy_project(root: Path, config: SandboxConfig, target: Path) -> None:
    """The project's files as the sandbox copies them (no .git, venvs, caches)."""
    snapshot = project_files.snapshot(root, config.excludes)
    for relative, _info in snapshot.files:
        source = root / relative
        if source.is_symlink():
            continue  # a link may point anywhere on the host: not into a build context
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, destination)


def _steps(say: Say, packages: int) -> Callable[[int, int], None]:
    """The build's progress as a bar: each of its steps done."""

    def step(done: int, total: int) -> None:
        filled = round(20 * done / max(1, total))
        bar = "#" * filled + "-" * (20 - filled)
        say(f"preparing the sandbox: installing {packages} packages [{bar}] {done}/{total}")

    return step


def _build(
    client: docker.DockerClient,
    context: Path,
    reference: str,
    labels: dict[str, str],
    step: Callable[[int, int], None] | None = None,
) -> str:
    """docker build with no network; the build's output (raises PrepareError on failure)."""
    import docker.errors

    output = io.StringIO()
    try:
        for chunk in client.api.build(
            path=str(context),
            tag=reference,
            labels=labels,
            network_mode="none",
            rm=True,
            forcerm=True,
            decode=True,
        ):
            if "stream" in chunk:
                output.write(str(chunk["stream"]))
                if step is not None and (found := _STEP.match(str(chunk["stream"]))):
                    step(int(found.group(1)), int(found.group(2)))
            if "error" in chunk:
                raise PrepareError(_build_failure(str(chunk["error"]), output.getvalue()))
    except docker.errors.APIError as error:
        raise PrepareError(f"cannot prepare the sandbox: docker build failed: {error}") from error
    return output.getvalue()


def _build_failure(error: str, log: str) -> str:
    pip_errors = _PIP_ERROR.findall(log)
    detail = "; ".join(pip_errors[-3:]) if pip_errors else log.strip().splitlines()[-3:]
    return (
        f"cannot prepare the sandbox: installing the dependencies failed ({error.strip()}): "
        f"{detail}"
    )


def _project_notes(requirements: Requirements, builds_project: bool, log: str) -> list[str]:
    if not builds_project or not requirements.project_name:
        return []
    if "FIXLOOP-PROJECT-NOT-INSTALLED" not in log:  # the echo's own text, not the step's
        return []
    reason = next((line for line in reversed(log.splitlines()) if "rror" in line), "")
    return [f"the project's own metadata is not installed ({reason.strip() or 'its build failed'})"]


def relabel(client: docker.DockerClient, reference: str, labels: dict[str, str]) -> None:
    """Labels cannot change on an image: a one-line build on top carries the new ones."""
    with tempfile.TemporaryDirectory(prefix="fixloop-env-") as folder:
        Path(folder, "Dockerfile").write_text(f"FROM {reference}\n", encoding="utf-8")
        _build(client, Path(folder), reference, labels)


def _remove_older(client: docker.DockerClient, root: Path, keep: str) -> None:
    """Earlier environments of this project: their dependency files have changed since."""
    label = f"{LABEL_PROJECT}={project_label(root)}"
    for image in client.images.list(name=ENV_REPOSITORY, filters={"label": label}):
        if keep in image.tags:
            continue
        for tag in image.tags:
            try:
                client.images.remove(tag, noprune=False)
            except Exception:  # in use by a running sandbox: removed next time
                continue


def describe(environment: Environment) -> dict[str, Any]:
    """The environment as `fixloop sandbox prepare --json` shows it."""
    return {
        "image": environment.image_ref,
        "python": environment.python,
        "packages": environment.packages,
        "source_paths": list(environment.source_paths),
        "pytest_plugins": environment.autoload_plugins,
        "prepared_now": environment.prepared_now,
        "node_modules": environment.node_modules,
        "notes": list(environment.notes),
    }


def dumps(environment: Environment) -> str:
    return json.dumps(describe(environment), indent=2)
