"""fixloop on real projects, as a new user runs it: seeded one-line bugs, defaults, timed.

Run:  .venv/bin/python benchmarks/bench_real_projects.py --projects DIR [--only NAME] [--bugs N]
Set up DIR once (clones the pinned commits, creates each project's .venv as its own
contributors do; needs the package index, not at run time):
      .venv/bin/python benchmarks/bench_real_projects.py --projects DIR --setup \\
          [--source 'https://github.com/{repo}.git']
Layout of DIR: DIR/<project>/ is a git work tree of the project at the commit below, with
its `.venv` (the project installed editable plus its test dependencies). The projects'
code is never part of this repository: only the single lines the bugs patch are.

Per project: the suite's plain `pytest` time on the unchanged tree, run as its user runs
it again (Python keeps bytecode: the run reuses the `__pycache__` of the run before it, as
pytest reuses its rewritten test modules; the time with none to reuse is printed beside
it), `fixloop sandbox
prepare` (when the CLI has it), then per seeded bug: the bug applied in place (the tree is
restored from git after each bug: an editable install imports the tree where it lies, so a
copy would test the unchanged code), the plain `.venv/bin/python -m pytest -q` time on the
buggy tree, and `fixloop fix FILE --json` from the project root with defaults: without
`--test` when the CLI detects the test command, else `--test "python -m pytest -q …"`.
Each bug gets a fresh memory (FIXLOOP_MEMORY_PATH), so memory does not help between bugs;
the user config is empty (XDG_CONFIG_HOME); the data folder (sessions, anything fixloop
prepares there) is one per project and run. Figures: verified, whether the patch restores
the original line, time to the verdict, that time / the buggy suite's plain pytest time
(a suite that hangs: the unchanged suite's time, marked *), per-candidate test time from
the session log (`$FIXLOOP_DATA_DIR/sessions/<id>.jsonl`, "candidate" events), medians.
Goal of issue 11: every bug a single template can fix is fixed, median ratio <= 2x.
`sandbox prepare` runs with --force (a first-time preparation) unless --reuse-prepared.
A fixloop run during which the Docker daemon went away or restarted (another user of a
shared machine) is run again. Another fixloop (e.g. an older commit, for a "before"
figure): --fixloop "env PYTHONPATH=CHECKOUT/server .venv/bin/python -m fixloop".
--suite-only checks that every bug fails the plain suite, without fixloop.
Prints its figures (--json-out FILE keeps the rows, written after each bug); not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FIXLOOP = ROOT / ".venv" / "bin" / "fixloop"
DOCKER_DOWN = "Docker daemon is not running"
PYTEST = "python -m pytest -q"

# dateutil's zoneinfo tarball is made at release time, not kept in git: take the released one.
_ZONEINFO = (
    'd=$(mktemp -d) && .venv/bin/pip download -q --no-deps -d "$d" '
    "python-dateutil==2.9.0.post0 && .venv/bin/python -c "
    "\"import sys, zipfile, glob; z = zipfile.ZipFile(glob.glob(sys.argv[1] + '/*.whl')[0]); "
    "n = 'dateutil/zoneinfo/dateutil-zoneinfo.tar.gz'; "
    "open('src/' + n, 'wb').write(z.read(n))\" \"$d\""
)
_VENV = ("python3 -m venv .venv", ".venv/bin/pip install -q -U pip")


@dataclass(frozen=True)
class Project:
    name: str
    repo: str
    commit: str
    layout: str
    dependencies: str
    setup: tuple[str, ...]  # shell commands, run in the work tree
    pytest_args: tuple[str, ...] = ()  # deselections a user needs (none so far)


PROJECTS = (
    Project(
        "dateutil",
        "dateutil/dateutil",
        "c981f9c7aa91b83cc9bd33a09ecee9e751b06e8d",
        "src",
        "six; tests: pytest<9 (9 errors on its parametrize generators), hypothesis, freezegun",
        (*_VENV, '.venv/bin/pip install -q -e . -r requirements-dev.txt "pytest<9"', _ZONEINFO),
    ),
    Project(
        "pyjwt",
        "jpadilla/pyjwt",
        "dcc27a9d3182a2349c30b160758785c6ce7a6508",
        "flat",
        "cryptography + cffi (compiled, extra `crypto`); tests group: pytest, coverage",
        (*_VENV, '.venv/bin/pip install -q -e ".[crypto]" --group tests'),
    ),
    Project(
        "marshmallow",
        "marshmallow-code/marshmallow",
        "341b927f219205704728c05cd61f04d7e9727523",
        "src",
        "packaging; tests extra: pytest, simplejson (C speedups)",
        (*_VENV, '.venv/bin/pip install -q -e ".[tests]"'),
    ),
    Project(
        "click",
        "pallets/click",
        "2c8cd3ac958a7eb316d67f2d316c27086c4c0369",
        "src",
        "none at run time; tests group: pytest (24 pager tests need `less`: the sandbox "
        "lacks it, so they fail there with and without a patch)",
        (*_VENV, ".venv/bin/pip install -q -e . --group tests"),
    ),
    Project(
        "flask",
        "pallets/flask",
        "2ac89889f4cc330eabd50f295dcef02828522c69",
        "src",
        "werkzeug, jinja2, itsdangerous, click, blinker; tests group: asgiref, greenlet "
        "(compiled), python-dotenv, pytest (its uv.lock's 9.0.2: 9.2 breaks a test module)",
        (*_VENV, '.venv/bin/pip install -q -e . --group tests "pytest==9.0.2"'),
    ),
)


@dataclass(frozen=True)
class Bug:
    project: str
    name: str
    kind: str
    file: str
    line: int
    original: str  # the line's text without its indentation
    buggy: str
    template: str | None  # the single offline template expected to fix it, if any
    indent: int = 0  # extra indentation of the buggy line (a statement moved into a block)


BUGS = (
    Bug("dateutil", "easter-const", "wrong constant", "src/dateutil/easter.py", 74,
        "e = 10", "e = 11", "off_by_one"),
    Bug("dateutil", "rd-compare", "comparison", "src/dateutil/relativedelta.py", 154,
        "if dt1 < dt2:", "if dt1 > dt2:", "compare_op"),
    Bug("dateutil", "rd-hours", "off-by-one", "src/dateutil/relativedelta.py", 247,
        "if abs(self.hours) > 23:", "if abs(self.hours) > 24:", "off_by_one"),
    Bug("dateutil", "rd-swap", "swapped arguments", "src/dateutil/relativedelta.py", 377,
        "day = min(calendar.monthrange(year, month)[1],",
        "day = min(calendar.monthrange(month, year)[1],", "swap_args"),
    Bug("dateutil", "tzinfo-not", "missing not", "src/dateutil/utils.py", 58,
        "if dt.tzinfo is not None:", "if dt.tzinfo is None:", "compare_op"),
    Bug("dateutil", "lex-hang", "infinite loop (comparison)", "src/dateutil/parser/_parser.py",
        107, "while nextchar == '\\x00':", "while nextchar != '\\x00':", "compare_op"),
    Bug("dateutil", "parse-index", "off-by-one (index)", "src/dateutil/parser/_parser.py", 756,
        "ymd.append(l[i + 2])", "ymd.append(l[i + 1])", "off_by_one"),
    Bug("dateutil", "rrule-dtstart", "comparison", "src/dateutil/rrule.py", 890,
        "elif res >= self._dtstart:", "elif res > self._dtstart:", "compare_op"),
    Bug("dateutil", "rrule-andor", "and/or (loops forever)", "src/dateutil/rrule.py", 1401,
        "while exlist and exlist[0] < ritem:", "while exlist or exlist[0] < ritem:", "bool_op"),
    Bug("dateutil", "iso-slice", "slice bound", "src/dateutil/parser/isoparser.py", 369,
        "us_str = frac.group(1)[:6]  # Truncate to microseconds",
        "us_str = frac.group(1)[:5]  # Truncate to microseconds", "bound"),
    Bug("dateutil", "parse-moved-inc", "infinite loop (moved statement)",
        "src/dateutil/parser/_parser.py", 853, "i += 1", "i += 1", None, indent=4),
    Bug("pyjwt", "b64-padding", "off-by-one", "jwt/utils.py", 31,
        'input_bytes += b"=" * (4 - rem)', 'input_bytes += b"=" * (3 - rem)', "off_by_one"),
    Bug("pyjwt", "int-bytes", "wrong constant", "jwt/utils.py", 69,
        "byte_length = (bit_length + 7) // 8", "byte_length = (bit_length + 6) // 8",
        "off_by_one"),
    Bug("pyjwt", "dss-swap", "swapped arguments", "jwt/utils.py", 93,
        "return bytes(encode_dss_signature(r, s))", "return bytes(encode_dss_signature(s, r))",
        "swap_args"),
    Bug("pyjwt", "alg-allowed", "negated condition", "jwt/api_jws.py", 347,
        "if not alg or (algorithms is not None and alg not in algorithms):",
        "if not alg or (algorithms is not None and alg in algorithms):", "compare_op"),
    Bug("pyjwt", "crit-andor", "and/or", "jwt/api_jws.py", 387,
        "if not isinstance(crit, list) or len(crit) == 0:",
        "if not isinstance(crit, list) and len(crit) == 0:", "bool_op"),
    Bug("pyjwt", "required-claim", "comparison (is/is not)", "jwt/api_jwt.py", 427,
        "if payload.get(claim) is None:", "if payload.get(claim) is not None:", "compare_op"),
    Bug("pyjwt", "sub-not", "missing not", "jwt/api_jwt.py", 441,
        'if "sub" not in payload:', 'if "sub" in payload:', "compare_op"),
    Bug("pyjwt", "nbf-leeway", "arithmetic operator", "jwt/api_jwt.py", 491,
        "if nbf > (now + leeway):", "if nbf > (now - leeway):", "arith_op"),
    Bug("pyjwt", "aud-strict", "comparison", "jwt/api_jwt.py", 542,
        "if audience != audience_claims:", "if audience == audience_claims:", "compare_op"),
    Bug("pyjwt", "aud-wrong-var", "wrong variable", "jwt/api_jwt.py", 557,
        "if all(aud not in audience_claims for aud in audience):",
        "if all(aud not in audience for aud in audience):", "wrong_var"),
    Bug("marshmallow", "list-wrong-var", "wrong variable", "src/marshmallow/fields.py", 782,
        "return [self.inner._serialize(each, attr, obj, **kwargs) for each in value]",
        "return [self.inner._serialize(value, attr, obj, **kwargs) for each in value]",
        "wrong_var"),
    Bug("marshmallow", "number-bool", "and/or", "src/marshmallow/fields.py", 963,
        "if value is True or value is False:", "if value is True and value is False:",
        "bool_op"),
    Bug("marshmallow", "strict-not", "missing not", "src/marshmallow/fields.py", 1005,
        "if self.strict and not isinstance(value, numbers.Integral):",
        "if self.strict and isinstance(value, numbers.Integral):", "negate"),
    Bug("marshmallow", "boolean-return", "wrong return", "src/marshmallow/fields.py", 1201,
        "return False", "return True", "bool_const"),
    Bug("marshmallow", "tz-sign", "negated comparison", "src/marshmallow/utils.py", 163,
        'if tzinfo[0] == "-":', 'if tzinfo[0] != "-":', "compare_op"),
    Bug("marshmallow", "tz-slice", "slice bound", "src/marshmallow/utils.py", 162,
        "offset = 60 * int(tzinfo[1:3]) + offset_mins",
        "offset = 60 * int(tzinfo[1:4]) + offset_mins", "bound"),
    Bug("marshmallow", "keys-recursion", "infinite recursion (slice bound)",
        "src/marshmallow/utils.py", 287,
        "_get_value_for_key(obj, keys[0], default), keys[1:], default",
        "_get_value_for_key(obj, keys[0], default), keys[0:], default", "bound"),
    Bug("marshmallow", "set-value-swap", "swapped arguments", "src/marshmallow/utils.py", 319,
        "set_value(target, rest, value)", "set_value(target, value, rest)", "swap_args"),
    Bug("marshmallow", "range-min", "comparison", "src/marshmallow/validate.py", 346,
        "value < self.min if self.min_inclusive else value <= self.min",
        "value <= self.min if self.min_inclusive else value <= self.min", "compare_op"),
    Bug("marshmallow", "length-max", "off-by-one (comparison)", "src/marshmallow/validate.py",
        419, "if self.max is not None and length > self.max:",
        "if self.max is not None and length >= self.max:", "compare_op"),
    Bug("click", "short-help-compare", "off-by-one (comparison)", "src/click/utils.py", 89,
        "if total_length > max_length:  # too long, truncate",
        "if total_length >= max_length:  # too long, truncate", "compare_op"),
    Bug("click", "clamp-sign", "wrong operator", "src/click/types.py", 754,
        "return bound + dir", "return bound - dir", "arith_op"),
    Bug("click", "table-width", "wrong function", "src/click/formatting.py", 19,
        "widths[idx] = max(widths.get(idx, 0), term_len(col))",
        "widths[idx] = min(widths.get(idx, 0), term_len(col))", "swap_builtin"),
    Bug("flask", "namespace-slice", "off-by-one (slice)", "src/flask/config.py", 358,
        "key = k[len(namespace) :]", "key = k[len(namespace) + 1 :]", "bound"),
    Bug("flask", "debug-flag-in", "missing not", "src/flask/helpers.py", 33,
        'return bool(val and val.lower() not in {"0", "false", "no"})',
        'return bool(val and val.lower() in {"0", "false", "no"})', "compare_op"),
)  # fmt: skip


# --- running things --------------------------------------------------------------------


@dataclass
class Run:
    seconds: float
    code: int | None  # None: killed at the time limit
    stdout: str
    stderr: str


def run(argv: Sequence[str], cwd: Path, env: dict[str, str], limit: float) -> Run:
    """argv in its own process group, killed whole at `limit` seconds."""
    started = time.perf_counter()
    process = subprocess.Popen(
        argv, cwd=cwd, env=env, text=True, start_new_session=True,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        out, err = process.communicate(timeout=limit)
        code: int | None = process.returncode
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        code = None
    return Run(time.perf_counter() - started, code, out, err)


def user_env(**extra: str) -> dict[str, str]:
    """The environment of a user's shell: no fixloop or pytest settings of ours, and
    Python's default of keeping bytecode (`__pycache__`), which pytest also uses for its
    rewritten test modules. A machine that sets PYTHONDONTWRITEBYTECODE (this one does)
    would make every plain pytest run compile and rewrite the suite anew: a slower
    reference than the one users have, and a flattering ratio."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FIXLOOP_", "PYTEST_"))}
    for name in ("VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX"):
        env.pop(name, None)
    return {**env, **extra}


def tally(output: str) -> str:
    """pytest's closing counts, e.g. '3 failed, 2029 passed'."""
    found = re.findall(
        r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed|deselected)", output[-3000:]
    )
    return ", ".join(f"{n} {what}" for n, what in found) or "(no counts)"


def plain_pytest(project: Project, root: Path, limit: float) -> Run:
    """The suite as its user runs it again: with the bytecode the last run left."""
    argv = [str(root / ".venv/bin/python"), "-m", "pytest", "-q", *project.pytest_args]
    return run(argv, root, user_env(), limit)


def cold_pytest(project: Project, root: Path, limit: float) -> Run:
    """The suite without any bytecode to reuse (a fresh clone, or a machine that keeps
    none): every module compiled and every test module rewritten in the run."""
    argv = [str(root / ".venv/bin/python"), "-m", "pytest", "-q", *project.pytest_args]
    with tempfile.TemporaryDirectory(prefix="bench-pycache-") as empty:
        env = user_env(PYTHONDONTWRITEBYTECODE="1", PYTHONPYCACHEPREFIX=empty)
        return run(argv, root, env, limit)


def last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


# --- the work trees ------------------------------------------------------------------


def setup_project(project: Project, directory: Path, source: str) -> None:
    tree = directory / project.name
    if not tree.exists():
        url = source.format(repo=project.repo, owner_name=project.repo.replace("/", "+"))
        subprocess.run(["git", "clone", "-q", url, str(tree)], check=True)
    subprocess.run(["git", "-C", str(tree), "checkout", "-q", project.commit], check=True)
    for command in project.setup:
        print(f"[{project.name}] $ {command}", flush=True)
        subprocess.run(command, shell=True, cwd=tree, check=True, env=user_env())


def check_tree(project: Project, tree: Path) -> str | None:
    """Why the work tree cannot be used, or None."""
    if not (tree / ".venv/bin/python").exists():
        return f"{tree} has no .venv: run with --setup first"
    head = git(tree, "rev-parse", "HEAD").strip()
    if head != project.commit:
        return f"{tree} is at {head[:12]}, not {project.commit[:12]}"
    if git(tree, "status", "--porcelain", "--untracked-files=no").strip():
        return f"{tree} has local changes: `git -C {tree} checkout -- .` first"
    return None


def git(tree: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(tree), *args], check=True, capture_output=True, text=True
    ).stdout


def seed(tree: Path, bug: Bug) -> tuple[str, str]:
    """Write the bug in; (original line, buggy line) with their indentation."""
    path = tree / bug.file
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    old = lines[bug.line - 1]
    if old.strip() != bug.original:
        raise SystemExit(f"{bug.file}:{bug.line} is {old.strip()!r}, not {bug.original!r}")
    indent = old[: len(old) - len(old.lstrip())] + " " * bug.indent
    lines[bug.line - 1] = f"{indent}{bug.buggy}\n"
    path.write_text("".join(lines), encoding="utf-8")
    return old.rstrip("\n"), lines[bug.line - 1].rstrip("\n")


def restore(tree: Path, bug: Bug) -> None:
    git(tree, "checkout", "--", bug.file)


# --- fixloop -------------------------------------------------------------------------


@dataclass
class Outcome:
    project: str
    bug: str
    kind: str
    template: str | None
    clean_seconds: float  # the unchanged suite's plain pytest time, this run
    suite_seconds: float | None  # the buggy tree's plain pytest; None: hung past the limit
    suite_tally: str
    invocation: str = ""
    exit_code: int | None = None
    seconds: float = 0.0
    verified: bool = False
    identical: bool = False
    still_failing: int = 0  # tests failing in the run that verified the fix
    status: str = ""
    message: str = ""
    candidates: int = 0
    candidate_ms: float | None = None  # median test time of one candidate
    warm: tuple[int, int] = (0, 0)  # candidates run in the warm runner, of those logged
    overhead_ms: float | None = None  # median warm candidate's time beyond its tests' own
    cpu_ms: float | None = None  # median warm candidate's CPU in the container, tests' aside
    suite_runs: int = 0  # whole-suite runs of candidates (one for the fix, more: wrong ones)
    suite_runs_s: float = 0.0  # their time
    baseline_s: float | None = None
    fixed_by: str | None = None
    patch: str = ""
    notes: list[str] = field(default_factory=list)


def fix_command(fixloop: list[str], target: str, project: Project, with_test: bool) -> list[str]:
    argv = [*fixloop, "fix", target, "--json"]
    if with_test:
        argv += ["--test", " ".join([PYTEST, *map(shlex.quote, project.pytest_args)])]
    return argv


def needs_test_option(result: Run) -> bool:
    return result.code == 2 and "--test" in result.stderr and "required" in result.stderr


def run_fixloop(
    project: Project, tree: Path, bug: Bug, env: dict[str, str], args: argparse.Namespace
) -> tuple[Run, str]:
    """As a user: without --test first; with it when the CLI asks for it. A run during
    which the Docker daemon went away or restarted (another user of the machine) is run
    again once the daemon is back: that is not fixloop's figure."""
    for _ in range(3):
        daemon = docker_daemon()
        result = run(fix_command(args.fixloop, bug.file, project, False), tree, env, args.fix_limit)
        invocation = "detected"
        if needs_test_option(result):
            argv = fix_command(args.fixloop, bug.file, project, True)
            result, invocation = run(argv, tree, env, args.fix_limit), "--test"
        if DOCKER_DOWN not in result.stderr and daemon and docker_daemon() == daemon:
            break
        print("      (the Docker daemon went away or restarted: again once it is back)", flush=True)
        wait_for_docker()
    return result, invocation


def docker_daemon() -> str:
    """The running dockerd's process id(s), "" when none."""
    return subprocess.run(["pidof", "dockerd"], capture_output=True, text=True).stdout.strip()


def wait_for_docker(limit: float = 300.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if subprocess.run(["docker", "info"], capture_output=True).returncode == 0:
            return
        time.sleep(5)


def session_figures(data_dir: Path, session_id: str, outcome: Outcome) -> None:
    """From the session log: the median candidate's test time (ms), the baseline run's
    time (s), candidates run warm of those logged, and the warm candidates' median own
    cost (ms: their time less their tests' own, and the CPU they cost in the container)."""
    path = data_dir / "sessions" / f"{session_id}.jsonl"
    if not path.is_file():
        return
    events = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    candidates = [e for e in events if e.get("event") == "candidate"]
    durations = [float(e["duration"]) for e in candidates]
    baseline = next((float(e["duration"]) for e in events if e.get("event") == "baseline"), None)
    median = statistics.median(durations) * 1000 if durations else None
    warm = sum(1 for e in candidates if e.get("runner") == "warm")
    # The runner's own cost: a candidate's time less its tests' own (pytest's, per test).
    overheads = [
        float(e["duration"]) - float(e.get("tests_time", 0.0))
        for e in candidates
        if e.get("runner") == "warm"
    ]
    overhead = statistics.median(overheads) * 1000 if overheads else None
    # The CPU a warm candidate cost (the agent, W and C), less its tests' own time: what
    # the runner itself costs, whatever else the machine is doing.
    cpus = [
        float(e["cpu"]) - float(e.get("tests_time", 0.0))
        for e in candidates
        if e.get("runner") == "warm" and "cpu" in e
    ]
    outcome.candidate_ms, outcome.baseline_s = median, baseline
    outcome.warm, outcome.overhead_ms = (warm, len(candidates)), overhead
    outcome.cpu_ms = statistics.median(cpus) * 1000 if cpus else None
    suites = [float(e["duration"]) for e in events if e.get("event") == "regression"]
    outcome.suite_runs, outcome.suite_runs_s = len(suites), sum(suites)


def restores_original(patch: str, original: str, buggy: str) -> bool:
    removed = [line[1:] for line in patch.splitlines() if line.startswith("-")]
    added = [line[1:] for line in patch.splitlines() if line.startswith("+")]
    removed = [line for line in removed if not line.startswith("--")]
    added = [line for line in added if not line.startswith("++")]
    return removed == [buggy] and added == [original]


def read_result(outcome: Outcome, result: Run, data_dir: Path, lines: tuple[str, str]) -> None:
    outcome.exit_code, outcome.seconds = result.code, result.seconds
    if result.code is None:
        outcome.status, outcome.message = "killed", "still running at the benchmark's limit"
        return
    try:
        data: dict[str, Any] = json.loads(result.stdout)
    except json.JSONDecodeError:
        outcome.status = "error"
        outcome.message = last_line(result.stderr) or last_line(result.stdout)
        return
    outcome.verified = bool(data.get("verified"))
    outcome.status, outcome.message = str(data.get("status")), str(data.get("message"))
    outcome.candidates = int(data.get("candidates_tried") or 0)
    outcome.still_failing = int((data.get("tests") or {}).get("failed") or 0)
    outcome.fixed_by, outcome.patch = data.get("template"), str(data.get("patch") or "")
    outcome.notes = [str(n) for n in data.get("notes") or []]
    outcome.identical = outcome.verified and restores_original(str(data["patch"]), *lines)
    if data.get("session_id"):
        session_figures(data_dir, data["session_id"], outcome)


def prepare(tree: Path, env: dict[str, str], args: argparse.Namespace) -> str:
    """`fixloop sandbox prepare` timed, when the CLI has it; with --force (as the first
    time) unless --reuse-prepared."""
    listing = run([*args.fixloop, "sandbox", "--help"], tree, env, 60)
    if "prepare" not in listing.stdout:
        return "n/a: the CLI has no `fixloop sandbox prepare` (any preparation is in run 1)"
    argv = [*args.fixloop, "sandbox", "prepare"]
    options = run([*argv, "--help"], tree, env, 60).stdout
    argv += ["--force"] if "--force" in options and not args.reuse_prepared else []
    result = run(argv, tree, env, args.fix_limit)
    said = last_line(result.stdout) or last_line(result.stderr)
    how = " ".join(argv[len(args.fixloop) :])
    return f"{result.seconds:.1f} s ({how}), exit {result.code}: {said}"


# --- the benchmark -------------------------------------------------------------------


def bench_bug(
    project: Project, tree: Path, bug: Bug, clean: float, data_dir: Path, args: argparse.Namespace
) -> Outcome:
    lines = seed(tree, bug)
    try:
        suite = plain_pytest(project, tree, args.suite_limit)
        outcome = Outcome(
            project.name, bug.name, bug.kind, bug.template, clean,
            suite.seconds if suite.code is not None else None,
            tally(suite.stdout) if suite.code is not None else "hung (killed)",
        )  # fmt: skip
        if args.suite_only:
            return outcome
        env = user_env(
            FIXLOOP_DATA_DIR=str(data_dir),
            FIXLOOP_MEMORY_PATH=str(data_dir / f"memory-{bug.name}"),
            XDG_CONFIG_HOME=str(data_dir / "config"),
            XDG_DATA_HOME=str(data_dir / "xdg-data"),
        )
        result, outcome.invocation = run_fixloop(project, tree, bug, env, args)
        read_result(outcome, result, data_dir, lines)
        if not outcome.verified:
            outcome.notes.append(f"stderr: {last_line(result.stderr)}")
        return outcome
    finally:
        restore(tree, bug)


def bench_project(project: Project, args: argparse.Namespace, work: Path) -> Iterator[Outcome]:
    tree = args.projects / project.name
    if problem := check_tree(project, tree):
        print(f"[{project.name}] skipped: {problem}", flush=True)
        return
    data_dir = work / project.name
    data_dir.mkdir(parents=True)
    cold = cold_pytest(project, tree, args.suite_limit)
    plain_pytest(project, tree, args.suite_limit)  # leaves the bytecode a user's run leaves
    clean = plain_pytest(project, tree, args.suite_limit)
    print(
        f"[{project.name}] {project.repo}@{project.commit[:12]} ({project.layout} layout; "
        f"{project.dependencies})\n  plain pytest, unchanged: {clean.seconds:.1f} s, "
        f"{tally(clean.stdout)} (with no bytecode to reuse: {cold.seconds:.1f} s)",
        flush=True,
    )
    env = user_env(FIXLOOP_DATA_DIR=str(data_dir), XDG_CONFIG_HOME=str(data_dir / "config"))
    if not args.suite_only:
        print(f"  sandbox preparation: {prepare(tree, env, args)}", flush=True)
    chosen = [b for b in BUGS if b.project == project.name and (not args.bug or b.name in args.bug)]
    for bug in chosen[: args.bugs]:
        outcome = bench_bug(project, tree, bug, clean.seconds, data_dir, args)
        if args.suite_only:
            print(f"  {bug.name:<16} {bug.file}:{bug.line}  {outcome.suite_tally}", flush=True)
            continue
        print(row(outcome), flush=True)
        if not outcome.verified:
            print(f"      {outcome.status}: {outcome.message[:300]}", flush=True)
        yield outcome


def ratio(outcome: Outcome) -> tuple[float, str]:
    """Time to the verdict / the suite's own time (the unchanged suite's when it hung)."""
    if outcome.suite_seconds is None:
        return outcome.seconds / outcome.clean_seconds, "*"
    return outcome.seconds / outcome.suite_seconds, ""


def row(outcome: Outcome) -> str:
    value, mark = ratio(outcome)
    suite = f"{outcome.suite_seconds:.1f}" if outcome.suite_seconds is not None else "hang"
    cost = f"{outcome.candidate_ms:.0f}" if outcome.candidate_ms is not None else "-"
    return (
        f"{outcome.project:<12} {outcome.bug:<16} {'yes' if outcome.verified else 'no':<4} "
        f"{'yes' if outcome.identical else '-':<5} {outcome.seconds:7.1f} {suite:>6} "
        f"{value:6.1f}{mark:<1} {outcome.candidates:5d} {cost:>6}  "
        f"{outcome.template or '(none)':<11} {outcome.status}"
    )


HEADER = (
    f"{'project':<12} {'bug':<16} {'ver':<4} {'ident':<5} {'time s':>7} {'suite':>6} "
    f"{'ratio':>7} {'cands':>5} {'ms/c':>6}  {'template':<11} status"
)


def summary(outcomes: list[Outcome]) -> None:
    print("\n" + HEADER)
    for outcome in outcomes:
        print(row(outcome))
    verified = [o for o in outcomes if o.verified]
    expected = [o for o in outcomes if o.template]
    print(
        f"\nverified {len(verified)}/{len(outcomes)}; of the bugs a single template should "
        f"fix: {sum(o.verified for o in expected)}/{len(expected)}; "
        f"patch identical to the original line: {sum(o.identical for o in outcomes)}"
    )
    for o in (o for o in verified if o.still_failing):
        print(f"  ! {o.project} {o.bug}: verified with {o.still_failing} tests still failing")
    if verified:
        ratios = [ratio(o)[0] for o in verified]
        print(
            f"median over verified bugs: time {statistics.median(o.seconds for o in verified):.1f}"
            f" s, ratio {statistics.median(ratios):.2f}x (goal <= 2x)"
        )
    costs = [o.candidate_ms for o in outcomes if o.candidate_ms is not None]
    if costs:
        print(f"per-candidate test time, median over bugs: {statistics.median(costs):.0f} ms")
    overheads = [o.overhead_ms for o in outcomes if o.overhead_ms is not None]
    if overheads:
        print(
            "warm runner's own cost per candidate (its time less its tests' own), median over "
            f"bugs: {statistics.median(overheads):.0f} ms (goal <= 10 ms)"
        )
    cpus = [o.cpu_ms for o in outcomes if o.cpu_ms is not None]
    if cpus:
        print(
            "  the same in CPU in the container (its CPU less its tests' own time; "
            f"independent of the machine's load): {statistics.median(cpus):.0f} ms"
        )
    if wrong := [o for o in outcomes if o.suite_runs > o.verified]:
        runs = ", ".join(f"{o.bug} {o.suite_runs}x, {o.suite_runs_s:.1f} s" for o in wrong)
        print(
            f"bugs whose session ran the whole suite for a candidate it then refused: "
            f"{len(wrong)} ({runs})"
        )
    warm, logged = (sum(o.warm[i] for o in outcomes) for i in (0, 1))
    if logged:
        print(f"candidates run in the warm runner: {warm} of {logged}")
    messages = sorted({f"{o.status}: {o.message}" for o in outcomes if not o.verified})
    if messages:
        print("\nwhat a user saw where no fix was verified:")
        print("\n".join(f"  - {m[:400]}" for m in messages))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--projects",
        type=Path,
        required=True,
        metavar="DIR",
        help="the folder holding one work tree (+ .venv) per project",
    )
    parser.add_argument(
        "--only",
        choices=[p.name for p in PROJECTS],
        action="append",
        help="this project only (repeatable)",
    )
    parser.add_argument("--bugs", type=int, metavar="N", help="the first N bugs per project")
    parser.add_argument(
        "--bug",
        action="append",
        choices=[b.name for b in BUGS],
        metavar="NAME",
        help="this bug only (repeatable; names in BUGS)",
    )
    parser.add_argument(
        "--setup",
        action="store_true",
        help="clone the projects at their commits and create their .venv",
    )
    parser.add_argument(
        "--source",
        default="https://github.com/{repo}.git",
        help="where --setup clones from: {repo} is owner/name, {owner_name} "
        "owner+name (default: %(default)s)",
    )
    parser.add_argument(
        "--fix-limit",
        type=float,
        default=900.0,
        metavar="S",
        help="kill a fixloop run after S seconds (default %(default)s)",
    )
    parser.add_argument(
        "--suite-limit",
        type=float,
        default=120.0,
        metavar="S",
        help="a plain pytest run that passes S seconds is a hang",
    )
    parser.add_argument(
        "--fixloop",
        default=str(FIXLOOP),
        metavar="CMD",
        help="the fixloop command (default: this checkout's %(default)s)",
    )
    parser.add_argument(
        "--reuse-prepared",
        action="store_true",
        help="`sandbox prepare` without --force: reuse a prepared environment",
    )
    parser.add_argument(
        "--suite-only",
        action="store_true",
        help="only check that each bug fails the plain suite (no fixloop)",
    )
    parser.add_argument("--json-out", type=Path, metavar="FILE", help="also write the rows")
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="keep each project's data folder (the session logs) in a new folder under DIR",
    )
    return parser.parse_args(argv)  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    args.projects = args.projects.resolve()
    projects = [p for p in PROJECTS if not args.only or p.name in args.only]
    if args.setup:
        args.projects.mkdir(parents=True, exist_ok=True)
        for project in projects:
            setup_project(project, args.projects, args.source)
        return 0
    args.fixloop = shlex.split(args.fixloop)
    if not shutil.which(args.fixloop[0]):
        print(f"no {args.fixloop[0]}: create the repository's .venv first", file=sys.stderr)
        return 2
    version = run([*args.fixloop, "--version"], ROOT, user_env(), 60).stdout.strip()
    print(f"{version} · {' '.join(args.fixloop)}", flush=True)
    if not args.suite_only:
        print(HEADER)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-real-", dir=args.keep))
    outcomes: list[Outcome] = []
    try:
        for project in projects:
            for outcome in bench_project(project, args, work):
                outcomes.append(outcome)
                if args.json_out:  # after each bug: a long run cut short keeps its rows
                    rows = json.dumps([asdict(o) for o in outcomes], indent=2)
                    args.json_out.write_text(rows + "\n")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"the data folders (session logs) are kept in {work}", flush=True)
    if outcomes:
        summary(outcomes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
