"""fixloop's offline engine on a held-out corpus of one-line bugs in real projects, beside
the corpus its templates were tuned on, run as a user runs it: defaults, one fresh data
folder per bug.

Run:  /work/main/.venv/bin/python benchmarks/bench_heldout.py
          [--corpus heldout|heldout2|heldout3|heldout4|tuning|both|all] [--only ID ...]
          [--json-out FILE] [--fixloop PATH] [--cache DIR] [--check]

`both` is heldout + tuning (the default, as before heldout2 existed); `all` is every corpus.
Each held-out corpus (`benchmarks/heldout/bugs.json`; `benchmarks/heldout2/bugs.json`,
`benchmarks/heldout3/bugs.json` and `benchmarks/heldout4/bugs.json`, written later by people
who had not seen how fixloop repairs: see their READMEs) names
PyPI sdists by version and sha256, and one-line bugs in them; nothing of those projects is
committed.
The sdists are downloaded once into the cache (default ~/.cache/fixloop-heldout; `pip
download`, hash checked) and extracted there; later runs work offline. The tuning corpus
is `benchmarks/corpus/*` (its README; test command `python -m pytest -q`).

At setup every held-out bug is checked with the host's pytest (this interpreter): its
tests pass on the original sdist and at least one fails with the bug; bad entries are
listed and not measured (`--check` stops there).

Per bug: the project is copied to a scratch folder, the bug seeded, and
`fixloop fix FILE --test CMD --engine offline --json` run from the project's root with a
fresh FIXLOOP_DATA_DIR / FIXLOOP_MEMORY_PATH / XDG_CONFIG_HOME / XDG_DATA_HOME, and this
checkout's `server/` first on PYTHONPATH (the code under test). Each held-out project is
prepared first (`fixloop sandbox prepare --force`, once, timed apart: a user pays it
once per project, not per fix). Recorded: verified; the offered patch applied to the
buggy file is identical to the original file, or else provably equivalent (same
`ast.dump`); time to the result; candidates tested; from the session log
(`sessions/*.jsonl`, "candidate" events) whether the first passing candidate was the known
fix. Totals per corpus, side by side: plausible (verified), identical (+ equivalent),
median time per fix (over verified bugs), and of the bugs whose first passing candidate
was not the known fix, how many the final ranking corrects.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# The held-out corpora, by name: each a bugs.json manifest of one-line bugs in PyPI sdists.
MANIFESTS = {
    "heldout": ROOT / "benchmarks" / "heldout" / "bugs.json",
    "heldout2": ROOT / "benchmarks" / "heldout2" / "bugs.json",
    "heldout3": ROOT / "benchmarks" / "heldout3" / "bugs.json",
    "heldout4": ROOT / "benchmarks" / "heldout4" / "bugs.json",
}
MANIFEST = MANIFESTS["heldout"]
CORPORA = (*MANIFESTS, "tuning")
# --corpus choices beyond a single corpus's name.
CORPUS_SETS = {"both": ("heldout", "tuning"), "all": CORPORA}
TUNING = ROOT / "benchmarks" / "corpus"
DEFAULT_CACHE = Path.home() / ".cache" / "fixloop-heldout"
TUNING_TEST = "python -m pytest -q"
CHECK_TIMEOUT = 300
FIX_TIMEOUT = 1200
# Host pytest 9 refuses boltons-style py.path hooks; the sandbox's pytest does not care.
_HOST_PYTEST_OPTS = "-p no:cacheprovider"
# "`NEW` instead of `OLD` in FILE:LINE", the offline engine's description of an edit.
_INSTEAD = re.compile(r"^`(?P<new>.*)` instead of `(?P<old>.*)` in (?P<file>\S+):(?P<line>\d+)$")


@dataclass(frozen=True)
class Sdist:
    name: str
    version: str
    sha256: str

    @property
    def stem(self) -> str:
        return f"{self.name}-{self.version}"


@dataclass(frozen=True)
class Case:
    """One bug to fix: a project folder, the file, its buggy and its known-fixed text."""

    id: str
    corpus: str  # a key of MANIFESTS, or "tuning"
    project: str
    source: Path  # the unchanged project (held-out) or the buggy program (tuning)
    file: str
    line: int
    kind: str
    test: str
    buggy: str
    fixed: str


@dataclass
class Row:
    id: str
    corpus: str
    kind: str
    verified: bool = False
    match: str = "-"  # identical | equivalent | other | - (nothing offered)
    seconds: float = 0.0
    candidates: int = 0
    at_line: int = 0  # candidates tested that edit the bug's line
    iterations: int = 0
    first_passing: str = "-"  # fix | other | ? (not told by the log) | - (none passed)
    offered: str = "-"  # fix | other | -
    status: str = ""
    reason: str = ""
    template: str = ""
    description: str = ""
    first_passing_description: str = ""
    why: str = ""  # fixloop's reason for the offered patch, when it gives one
    session: str = ""
    # Seconds in each phase of the session (from its log's "phase" events), and "outside":
    # the process's time beyond the session's (start-up, writing the result).
    phases: dict[str, float] = field(default_factory=dict)


# --- the held-out manifest and its sdists -------------------------------------------------


def load_manifest(path: Path = MANIFEST) -> tuple[dict[str, Sdist], list[dict[str, Any]]]:
    data = json.loads(path.read_text())
    sdists = {}
    for name, entry in data["projects"].items():
        pypi_name, _, version = entry["sdist"].partition("==")
        sdists[name] = Sdist(pypi_name, version, entry["sha256"])
    return sdists, list(data["bugs"])


def sdist_tree(sdist: Sdist, cache: Path) -> Path:
    """The extracted sdist, downloaded and hash-checked on first use."""
    tree = cache / "src" / sdist.stem
    tarball = cache / f"{sdist.stem}.tar.gz"
    if not tarball.exists():
        download(sdist, tarball)
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
    if digest != sdist.sha256:
        raise SystemExit(f"{tarball}: sha256 {digest}, the manifest says {sdist.sha256}")
    if not tree.exists():
        extract(tarball, tree)
    return tree


def download(sdist: Sdist, tarball: Path) -> None:
    tarball.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "-q",
                "--no-deps",
                "--no-binary",
                ":all:",
                "-d",
                tmp,
                f"{sdist.name}=={sdist.version}",
            ],
            check=True,
        )
        (found,) = Path(tmp).glob("*.tar.gz")
        shutil.move(found, tarball)


def extract(tarball: Path, tree: Path) -> None:
    with tempfile.TemporaryDirectory(dir=tree.parent.parent) as tmp:
        with tarfile.open(tarball) as archive:
            archive.extractall(tmp, filter="data")
        (top,) = Path(tmp).iterdir()
        tree.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(top, tree)


def heldout_cases(cache: Path, only: Sequence[str], corpus: str = "heldout") -> list[Case]:
    sdists, bugs = load_manifest(MANIFESTS[corpus])
    cases = []
    for bug in bugs:
        if only and bug["id"] not in only:
            continue
        tree = sdist_tree(sdists[bug["project"]], cache)
        original = (tree / bug["file"]).read_text()
        lines = original.splitlines(keepends=True)
        line = lines[bug["line"] - 1]
        if line.rstrip("\r\n") != bug["original"]:
            raise SystemExit(f"{bug['id']}: line {bug['line']} is {line!r}, not the original")
        lines[bug["line"] - 1] = bug["buggy"] + line[len(line.rstrip("\r\n")) :]
        cases.append(
            Case(
                bug["id"],
                corpus,
                bug["project"],
                tree,
                bug["file"],
                bug["line"],
                bug["kind"],
                bug["test"],
                "".join(lines),
                original,
            )
        )
    return cases


def tuning_cases(only: Sequence[str]) -> list[Case]:
    cases = []
    for folder in sorted(p for p in TUNING.iterdir() if (p / "bug.json").exists()):
        if only and folder.name not in only:
            continue
        bug = json.loads((folder / "bug.json").read_text())
        buggy = (folder / bug["file"]).read_text()
        lines = buggy.splitlines(keepends=True)
        fixed_line = bug["fixed_line"]
        lines[bug["line"] - 1] = "" if fixed_line is None else fixed_line + "\n"
        cases.append(
            Case(
                folder.name,
                "tuning",
                folder.name,
                folder,
                bug["file"],
                bug["line"],
                bug["kind"],
                TUNING_TEST,
                buggy,
                "".join(lines),
            )
        )
    return cases


def seed(case: Case, work: Path) -> Path:
    """A scratch copy of the project with the bug in it."""
    shutil.copytree(
        case.source, work, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache")
    )
    (work / case.file).write_text(case.buggy)
    return work


# --- the setup check, with the host's pytest ----------------------------------------------


def host_tests_pass(folder: Path, test: str) -> tuple[bool, str]:
    argv = test.split()
    if argv[0] != "python":
        raise SystemExit(f"test command must start with python: {test}")
    env = dict(os.environ, PYTEST_ADDOPTS=_HOST_PYTEST_OPTS, PYTHONDONTWRITEBYTECODE="1")
    env["PYTEST_ADDOPTS"] += " -W ignore::DeprecationWarning"
    if (folder / "src").is_dir():  # as the sandbox does: a src/ layout imports from there
        env["PYTHONPATH"] = str(folder / "src")
    if getattr(__import__("pytest"), "PytestRemovedIn9Warning", None):
        env["PYTEST_ADDOPTS"] += " -W ignore::pytest.PytestRemovedIn9Warning"
    try:
        done = subprocess.run(
            [sys.executable, *argv[1:]],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=CHECK_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        return False, "timed out"
    tail = (done.stdout.strip().splitlines() or [""])[-1]
    return done.returncode == 0, tail


def check(cases: Sequence[Case]) -> list[str]:
    """Problems: tests that fail on the original, bugs that no test catches."""
    problems = []
    original_ok: dict[tuple[str, str], tuple[bool, str]] = {}
    with tempfile.TemporaryDirectory(prefix="fixloop-heldout-check-") as tmp:
        for case in cases:
            key = (case.project, case.test)
            if key not in original_ok:
                original_ok[key] = host_tests_pass(case.source, case.test)
                if not original_ok[key][0]:
                    problems.append(f"{case.id}: tests fail on the original: {original_ok[key][1]}")
            work = seed(case, Path(tmp) / case.id)
            passed, tail = host_tests_pass(work, case.test)
            print(f"  check {case.id:40} {'NOT CAUGHT' if passed else 'caught'}: {tail}")
            if passed:
                problems.append(f"{case.id}: no test fails with the bug ({tail})")
            shutil.rmtree(work)
    return problems


# --- running fixloop as a user does -------------------------------------------------------


def fixloop_env(data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env.update(
        PYTHONPATH=str(ROOT / "server"),
        FIXLOOP_DATA_DIR=str(data),
        FIXLOOP_MEMORY_PATH=str(data / "mem"),
        XDG_CONFIG_HOME=str(data / "config"),
        XDG_DATA_HOME=str(data / "xdg"),
    )
    return env


def prepare(fixloop: str, case: Case, scratch: Path) -> tuple[float, str]:
    """`fixloop sandbox prepare --force` on an unchanged copy: the first-time cost."""
    base = scratch / f"prepare-{case.project}"
    work = base / "project"
    shutil.copytree(case.source, work)
    started = time.perf_counter()
    done = subprocess.run(
        [fixloop, "sandbox", "prepare", "--force", str(work)],
        cwd=work,
        env=fixloop_env(base / "data"),
        capture_output=True,
        text=True,
        timeout=FIX_TIMEOUT,
    )
    took = time.perf_counter() - started
    said = (done.stdout.strip() or done.stderr.strip()).splitlines()
    return took, f"exit {done.returncode}: {said[-1] if said else ''}"


def run_case(fixloop: str, case: Case, scratch: Path) -> Row:
    base = scratch / f"{case.corpus}-{case.id}"
    work = seed(case, base / "project")
    data = base / "data"
    row = Row(case.id, case.corpus, case.kind)
    started = time.perf_counter()
    try:
        done = subprocess.run(
            [fixloop, "fix", case.file, "--test", case.test, "--engine", "offline", "--json"],
            cwd=work,
            env=fixloop_env(data),
            capture_output=True,
            text=True,
            timeout=FIX_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        row.seconds = time.perf_counter() - started
        row.status = "timeout"
        return row
    row.seconds = time.perf_counter() - started
    try:
        result = json.loads(done.stdout)
    except json.JSONDecodeError:
        row.status = f"exit {done.returncode}"
        row.reason = (done.stderr.strip().splitlines() or [""])[-1]
        return row
    row.verified = bool(result.get("verified"))
    row.status = str(result.get("status", ""))
    row.reason = str(result.get("message", ""))
    row.candidates = int(result.get("candidates_tried") or 0)
    row.iterations = int(result.get("iterations") or 0)
    row.template = str(result.get("template") or "")
    row.description = str(result.get("description") or "")
    row.why = str(result.get("why") or "")
    if row.verified and result.get("patch"):
        patched = apply_patch(case.buggy, str(result["patch"]), case.file)
        row.match = compare(patched, case.fixed)
        row.offered = "fix" if row.match in ("identical", "equivalent") else "other"
    read_session(row, case, data / "sessions" / f"{result.get('session_id')}.jsonl")
    return row


def compare(text: str | None, fixed: str) -> str:
    if text is None:
        return "other"
    if text == fixed:
        return "identical"
    return "equivalent" if same_ast(text, fixed) else "other"


def same_ast(a: str, b: str) -> bool:
    try:
        return ast.dump(ast.parse(a)) == ast.dump(ast.parse(b))
    except SyntaxError:
        return False


_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@")


def apply_patch(text: str, patch: str, file: str) -> str | None:
    """`text` with the unified diff's hunks for `file` applied; None if it touches another
    file or does not apply."""
    old = text.splitlines(keepends=True)
    out: list[str] = []
    at = 0  # next line of `old` to copy
    current = None
    for line in patch.splitlines(keepends=True):
        if line.startswith("+++ "):
            current = line[4:].strip().removeprefix("b/")
            if current != file:
                return None
            continue
        if line.startswith("--- ") or current is None:
            continue
        hunk = _HUNK.match(line)
        if hunk:
            start = int(hunk.group(1)) - (0 if hunk.group(2) == "0" else 1)
            out.extend(old[at:start])
            at = start
        elif line.startswith(" ") or line.startswith("-"):
            if at >= len(old) or old[at].rstrip("\r\n") != line[1:].rstrip("\r\n"):
                return None
            if line.startswith(" "):
                out.append(old[at])
            at += 1
        elif line.startswith("+"):
            out.append(line[1:])
        elif line.startswith("\\") and out:  # "\ No newline at end of file"
            out[-1] = out[-1].rstrip("\n")
    out.extend(old[at:])
    return "".join(out)


def read_session(row: Row, case: Case, log: Path) -> None:
    """Whether the first passing candidate was the known fix, from the session log."""
    if not log.exists():
        return
    events = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    row.session = str(log)
    candidates = [e for e in events if e.get("event") == "candidate"]
    row.candidates = row.candidates or len(candidates)
    here = f" in {case.file}:{case.line}"
    row.at_line = sum(str(e.get("description", "")).endswith(here) for e in candidates)
    row.phases = phase_seconds(events, row.seconds)
    first = next((e for e in candidates if e.get("passed")), None)
    if first is None:
        return
    description = str(first.get("description", ""))
    row.first_passing_description = description
    if description == row.description and row.offered != "-":
        row.first_passing = row.offered
    else:
        row.first_passing = described_is_fix(description, case)


def phase_seconds(events: Sequence[dict[str, Any]], total: float) -> dict[str, float]:
    """Seconds from each "phase" event to the next (summed per phase), "outside" for the
    process's time beyond the session's log."""
    phases: dict[str, float] = defaultdict(float)
    current, since = "start", 0.0
    for event in events:
        elapsed = float(event.get("elapsed", since))
        if event.get("event") in ("phase", "end"):
            phases[current] += elapsed - since
            current, since = str(event.get("phase", "end")), elapsed
    phases["outside"] = total - since
    return {name: round(seconds, 3) for name, seconds in phases.items()}


def described_is_fix(description: str, case: Case) -> str:
    """fix | other | ?: the candidate rebuilt from "`NEW` instead of `OLD` in FILE:LINE"
    (the offline engine's description; long expressions are cut, then it cannot tell)."""
    found = _INSTEAD.match(description)
    if not found or ";" in description:
        return "?" if not found else "other"
    new, old = found["new"], found["old"]
    lines = case.buggy.splitlines(keepends=True)
    number = int(found["line"])
    if found["file"] != case.file or not 0 < number <= len(lines):
        return "other"
    if "..." in new or "..." in old:
        return "?"
    line = lines[number - 1]
    indent = line[: len(line) - len(line.lstrip())]
    flat = indent + " ".join(line.split()) + "\n"
    start = flat.find(old)
    if start < 0:
        return "?"
    while start >= 0:
        lines[number - 1] = flat[:start] + new + flat[start + len(old) :]
        if same_ast("".join(lines), case.fixed):
            return "fix"
        start = flat.find(old, start + 1)
    return "other"


# --- figures ------------------------------------------------------------------------------


def totals(rows: Sequence[Row]) -> dict[str, str]:
    n = len(rows)
    verified = [r for r in rows if r.verified]
    identical = sum(r.match == "identical" for r in rows)
    equivalent = sum(r.match == "equivalent" for r in rows)
    times = [r.seconds for r in verified]
    missed = [r for r in rows if r.first_passing == "other"]
    corrected = sum(r.offered == "fix" for r in missed)
    unknown = sum(r.first_passing == "?" for r in rows)

    def share(k: int) -> str:
        return f"{k}/{n} ({100 * k / n:.0f} %)" if n else "-"

    return {
        "bugs": str(n),
        "plausible (verified)": share(len(verified)),
        "identical": share(identical),
        "+ provably equivalent": share(identical + equivalent),
        "median time per fix": f"{statistics.median(times):.1f} s" if times else "-",
        "median time, all bugs": f"{statistics.median(r.seconds for r in rows):.1f} s"
        if rows
        else "-",
        "median candidates per fix": f"{statistics.median(r.candidates for r in verified):.0f}"
        if verified
        else "-",
        "first passing = known fix": f"{sum(r.first_passing == 'fix' for r in rows)}/{n}",
        "first passing not told": str(unknown),
        "ranking corrects": f"{corrected}/{len(missed)}",
    }


def print_rows(rows: Iterable[Row]) -> None:
    print(
        f"  {'bug':44} {'kind':14} {'verified':8} {'match':10} {'time':>7} {'cands':>6} "
        f"{'1st pass':8} {'offered':7}"
    )
    for r in rows:
        print(
            f"  {r.id:44} {r.kind:14} {'yes' if r.verified else 'no':8} {r.match:10} "
            f"{r.seconds:6.1f}s {r.candidates:6d} {r.first_passing:8} {r.offered:7}"
        )


def print_totals(by_corpus: dict[str, list[Row]]) -> None:
    figures = {name: totals(rows) for name, rows in by_corpus.items() if rows}
    if not figures:
        return
    names = list(figures)
    print(f"\n  {'':28}" + "".join(f"{name:>24}" for name in names))
    for key in next(iter(figures.values())):
        print(f"  {key:28}" + "".join(f"{figures[name][key]:>24}" for name in names))


def remove_containers(scratch: Path) -> int:
    """This run's sandbox containers (their project label is under `scratch`) only: others
    on the machine may be in use."""
    listed = subprocess.run(
        [
            "docker",
            "ps",
            "-aq",
            "--filter",
            "label=fixloop",
            "--format",
            '{{.ID}} {{.Label "fixloop.project"}}',
        ],
        capture_output=True,
        text=True,
    )
    ours = [
        line.split()[0]
        for line in listed.stdout.splitlines()
        if len(line.split()) == 2 and line.split()[1].startswith(str(scratch))
    ]
    if ours:
        subprocess.run(["docker", "rm", "-f", *ours], capture_output=True)
    return len(ours)


def report_saved(path: Path) -> None:
    by_corpus: dict[str, list[Row]] = {name: [] for name in CORPORA}
    for row in json.loads(path.read_text())["rows"]:
        by_corpus[row["corpus"]].append(Row(**row))
    for name, rows in by_corpus.items():
        if rows:
            print(f"\n{name} corpus:")
            print_rows(rows)
    print_totals(by_corpus)


def interleave(*corpora: Sequence[Case]) -> list[Case]:
    """The corpora in turn, so that a run stopped early has figures for each."""
    longest = max((len(c) for c in corpora), default=0)
    return [c[i] for i in range(longest) for c in corpora if i < len(c)]


def default_fixloop() -> str:
    for candidate in (ROOT / ".venv" / "bin" / "fixloop", Path(sys.executable).parent / "fixloop"):
        if candidate.exists():
            return str(candidate)
    return shutil.which("fixloop") or "fixloop"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--corpus", choices=(*CORPORA, *CORPUS_SETS), default="both")
    parser.add_argument("--only", nargs="*", default=[], help="bug ids (tuning: folder names)")
    parser.add_argument("--json-out", type=Path, help="rows, written after each bug")
    parser.add_argument("--fixloop", default=default_fixloop(), help="the CLI to run")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="sdists")
    parser.add_argument("--check", action="store_true", help="check the bugs, run nothing")
    parser.add_argument("--from-json", type=Path, help="print the figures of a --json-out file")
    parser.add_argument("--no-check", action="store_true", help="skip the setup check")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    parser.add_argument(
        "--jobs", type=int, default=1, help="bugs run at once (more than 1 slows each)"
    )
    args = parser.parse_args()
    if args.from_json:
        report_saved(args.from_json)
        return

    chosen = CORPUS_SETS.get(args.corpus, (args.corpus,))
    per_corpus: list[list[Case]] = []
    for corpus in chosen:
        if corpus == "tuning":
            continue
        held = heldout_cases(args.cache, args.only, corpus)
        if not args.no_check or args.check:
            print(f"checking {len(held)} {corpus} bugs with the host's pytest")
            problems = check(held)
            for problem in problems:
                print(f"  BAD {problem}")
            bad = {p.split(":")[0] for p in problems}
            held = [c for c in held if c.id not in bad]
        per_corpus.append(held)
    if args.check:
        return
    if "tuning" in chosen:
        per_corpus.append(tuning_cases(args.only))
    cases = interleave(*per_corpus)

    scratch = Path(tempfile.mkdtemp(prefix="fixloop-heldout-"))
    print(f"fixloop: {args.fixloop} (PYTHONPATH={ROOT / 'server'}); scratch {scratch}")
    by_corpus: dict[str, list[Row]] = {name: [] for name in CORPORA}
    prepared: dict[str, dict[str, object]] = {}
    lock = threading.Lock()

    def one(case: Case) -> None:
        row = run_case(args.fixloop, case, scratch)
        with lock:
            by_corpus[case.corpus].append(row)
            print(
                f"{case.corpus} {case.id}: {'verified' if row.verified else row.status} "
                f"{row.match} {row.seconds:.1f} s, {row.candidates} candidates, "
                f"first passing {row.first_passing}, offered {row.offered}",
                flush=True,
            )
            if args.json_out:
                dumped = [asdict(r) for rs in by_corpus.values() for r in rs]
                args.json_out.write_text(
                    json.dumps({"prepare": prepared, "rows": dumped}, indent=1) + "\n"
                )

    try:
        for case in cases:  # first-time preparation, once per project, timed apart
            if case.corpus != "tuning" and case.project not in prepared:
                took, said = prepare(args.fixloop, case, scratch)
                prepared[case.project] = {"seconds": round(took, 1), "result": said}
                print(f"prepare {case.project}: {took:.1f} s ({said})", flush=True)
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            list(pool.map(one, cases))
    finally:
        removed = remove_containers(scratch)
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    order = {c.id: i for i, c in enumerate(cases)}
    for name, rows in by_corpus.items():
        rows.sort(key=lambda r: order[r.id])
        if rows:
            print(f"\n{name} corpus:")
            print_rows(rows)
    print_totals(by_corpus)
    print(f"(jobs: {args.jobs}; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f})")
    for name in MANIFESTS:
        kinds = Counter(r.kind for r in by_corpus[name] if not r.verified)
        if kinds:
            print(f"\n{name} bugs not fixed, by kind: {dict(kinds)}")
    if removed:
        print(f"removed {removed} leftover sandbox containers of this run")


if __name__ == "__main__":
    main()
