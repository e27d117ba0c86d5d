"""`fixloop sandbox build [--offline]`, `fixloop sandbox prepare [PATH]` and
`fixloop sandbox doctor`."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path

from fixloop.sandbox.config import SandboxConfig
from fixloop.sandbox.errors import DockerUnavailable, SandboxError


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("sandbox", help="build and check the Docker sandbox")
    actions = parser.add_subparsers(dest="sandbox_command", metavar="ACTION", required=True)
    build = actions.add_parser("build", help="build the sandbox image (reused when current)")
    build.add_argument(
        "--offline",
        action="store_true",
        help="no registry: debootstrap Debian from the apt mirror, then docker import",
    )
    build.add_argument("--force", action="store_true", help="build even if the image is current")
    build.set_defaults(handler=run_build)
    doctor = actions.add_parser(
        "doctor", help="check the engine, the image, and that every limit is enforced"
    )
    doctor.set_defaults(handler=run_doctor)
    prepare = actions.add_parser(
        "prepare",
        help="prepare (or reuse) the project's sandbox environment: its dependencies, "
        "read from its files, installed in an image of its own",
    )
    prepare.add_argument(
        "path", nargs="?", default=".", type=Path, help="in the project (default: here)"
    )
    prepare.add_argument("--force", action="store_true", help="prepare again even if current")
    prepare.add_argument("--json", action="store_true", help="print the environment as JSON")
    prepare.set_defaults(handler=run_prepare)
    for action in (build, doctor, prepare):
        action.add_argument("--image", help="image name (default: fixloop-sandbox)")
        action.add_argument("--tag", help="image tag (default: latest)")


def sandbox_config(args: argparse.Namespace, root: Path | None = None) -> SandboxConfig:
    """The project's sandbox settings, with --image / --tag on top."""
    from fixloop.config import load_settings

    settings = load_settings(root or Path.cwd())
    for problem in settings.problems:  # e.g. a restricted value of an untrusted project
        print(f"fixloop: {problem}", file=sys.stderr)
    config = settings.sandbox
    overrides = {name: getattr(args, name) for name in ("image", "tag") if getattr(args, name)}
    return dataclasses.replace(config, **overrides)


def _failed(error: SandboxError) -> int:
    """Say why; exit 2 when there is no Docker engine to talk to, else 1."""
    print(f"fixloop sandbox: {error}", file=sys.stderr)
    return 2 if isinstance(error, DockerUnavailable) else 1


def run_build(args: argparse.Namespace) -> int:
    """Build the image, saying each stage with its time on stderr (it takes minutes)."""
    import time

    from fixloop.sandbox.engine import connect
    from fixloop.sandbox.image import build_image

    config = sandbox_config(args)
    started = time.monotonic()

    def say(message: str) -> None:
        print(f"[{time.monotonic() - started:5.1f} s] {message}", file=sys.stderr, flush=True)

    try:
        client = connect(config)
        built = build_image(client, config, offline=args.offline, force=args.force, say=say)
    except SandboxError as error:
        return _failed(error)
    if built:
        print(f"fixloop sandbox: built {config.image_ref} in {time.monotonic() - started:.0f} s")
    else:
        print(f"fixloop sandbox: reused the current image {config.image_ref}")
    return 0


def run_prepare(args: argparse.Namespace) -> int:
    """Prepare the project's environment now, saying each step with its time."""
    import time

    from fixloop.project import find_project_root
    from fixloop.sandbox.engine import connect
    from fixloop.sandbox.image import require_image
    from fixloop.sandbox.prepare import describe, environment_for
    from fixloop.sandbox.requirements import find_requirements

    if not args.path.exists():
        print(f"fixloop sandbox: no such file or folder: {args.path}", file=sys.stderr)
        return 2
    root = find_project_root(args.path)
    config = sandbox_config(args, root)
    started = time.monotonic()

    interactive = sys.stderr.isatty()

    def say(message: str) -> None:
        line = f"[{time.monotonic() - started:5.1f} s] {message}"
        if interactive and "] " in message:  # the build's bar: redrawn in place
            print(f"\r\033[K{line}", end="", file=sys.stderr, flush=True)
            return
        print(f"\r\033[K{line}" if interactive else line, file=sys.stderr, flush=True)

    requirements = find_requirements(root)
    say(f"{root}: {len(requirements.lines)} requirements from {requirements.source}")
    try:
        client = connect(config)
        require_image(client, config)
        environment = environment_for(client, config, root, say, force=args.force)
    except SandboxError as error:
        return _failed(error)
    if args.json:
        import json

        print(json.dumps({**describe(environment), "seconds": time.monotonic() - started}))
        return 0
    verb = "prepared" if environment.prepared_now else "reused"
    if environment.image_ref == config.image_ref:
        verb = "nothing to install: using"
    print(f"fixloop sandbox: {verb} {environment.image_ref}")
    for note in environment.notes:
        print(f"fixloop sandbox: note: {note}", file=sys.stderr)
    return 0


def run_doctor(args: argparse.Namespace) -> int:
    from fixloop.sandbox.doctor import run_doctor as checks_for

    checks = checks_for(sandbox_config(args))
    for check in checks:
        print(check.line())
    return 0 if all(check.ok for check in checks) else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run as `python -m fixloop.cli.sandbox_cmd ACTION` (used by scripts/ensure-docker.sh)."""
    parser = argparse.ArgumentParser(prog="fixloop")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["sandbox", *(sys.argv[1:] if argv is None else argv)])
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
