"""What the function does now, learned in the sandbox (the user's code is never run on
this machine): a small pytest file calls it on each sample case and writes what came
back — a plain value's repr, or the exception raised — where a `Probe` collects it."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from fixloop.sandbox.results import Probe
from fixloop.testgen.target import FunctionTarget

OUTPUT_ENV = "FIXLOOP_TESTGEN_PROBE"
CALL_SECONDS = 1.0  # per call: a loop that never ends costs one case, not the run

_PROBE_TEMPLATE = '''\
"""fixloop: records what {name} returns on sample inputs (written, run, thrown away)."""
import ast, importlib, importlib.util, json, os, signal, sys

CASES = [
{cases}
]


class _Slow(Exception):
    pass


def _alarm(*_):
    raise _Slow()


def _plain(value):
    try:
        text = repr(value)
        back = ast.literal_eval(text)
    except Exception:
        return None
    if type(back) is not type(value) or back != value or len(text) > 400:
        return None
    return text


def _callee():
    """A fresh one each call: a method is called on a new instance."""
    return eval({callee!r}, vars(importlib.import_module({module!r})))


def _call(case):
    args, kwargs = case()
    try:
        signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, {seconds})
    except ValueError:
        pass  # not the main thread: the run's own timeout still holds
    try:
        return ("return", _callee()(*args, **kwargs))
    except _Slow:
        return ("timeout", None)
    except Exception as error:
        return ("raise", error)
    finally:
        try:
            signal.setitimer(signal.ITIMER_REAL, 0)
        except ValueError:
            pass


def _record(case):
    kind, value = _call(case)
    if kind == "timeout":  # once is enough to know
        return {{"outcome": kind}}
    again, other = _call(case)
    entry = {{"outcome": kind}}
    if kind == "return":
        entry["repr"] = _plain(value)
        entry["type"] = type(value).__name__
        entry["deterministic"] = again == "return" and repr(other) == repr(value)
        args, kwargs = case()
        if len(args) == 1 and not kwargs and type(value) is type(args[0]):
            twice, result = _call(lambda: ((value,), {{}}))
            entry["idempotent"] = twice == "return" and repr(result) == repr(value)
    elif kind == "raise":
        entry["type"] = type(value).__qualname__
        entry["module"] = type(value).__module__
        entry["message"] = str(value)[:200]
        entry["deterministic"] = again == "raise" and type(other) is type(value)
    return entry


def _hypothesis():
    """Whose hypothesis imports here: "project" (installed in the project's environment),
    "sandbox" (the sandbox's own tool alone), or None."""
    spec = importlib.util.find_spec("hypothesis")
    if spec is None or not spec.origin:
        return None
    prefix = os.path.realpath(sys.prefix) + os.sep
    own = sys.prefix != sys.base_prefix and os.path.realpath(spec.origin).startswith(prefix)
    return "project" if own else "sandbox"


def test_fixloop_probe():
    _callee()  # an import error fails here, once
    found = {{
        "cases": [_record(case) for case in CASES],
        "hypothesis": _hypothesis(),
    }}
    with open(os.environ[{env!r}], "w") as handle:
        json.dump(found, handle)
'''


@dataclass(frozen=True)
class Observed:
    """One sample case's outcome: `return` (with `repr` when a plain value), `raise`, or
    `timeout`."""

    args: tuple[str, ...]
    outcome: str
    repr: str | None = None
    type: str = ""
    module: str = ""
    message: str = ""
    deterministic: bool = False
    idempotent: bool | None = None


@dataclass(frozen=True)
class Observation:
    cases: tuple[Observed, ...]
    # Property tests can run in the sandbox and in the user's own environment: a file
    # importing hypothesis where the project lacks it stops the user's whole suite.
    hypothesis: bool


def probe_file(
    target: FunctionTarget,
    cases: list[tuple[str, ...]],
    folder: str,
    *,
    seconds: float = CALL_SECONDS,
) -> tuple[str, str]:
    """The probe test's path (in `folder`, so that it imports the module as the tests
    will) and its text; `seconds` limits each call."""
    lines = [
        f"    lambda: ({_call_args(target, args)}),  # case {i}" for i, args in enumerate(cases)
    ]
    text = _PROBE_TEMPLATE.format(
        name=target.qualname,
        module=target.module,
        callee=target.callee,
        cases="\n".join(lines),
        seconds=seconds,
        env=OUTPUT_ENV,
    )
    path = PurePosixPath(folder) / f"test_fixloop_probe_{uuid.uuid4().hex[:8]}.py"
    return path.as_posix(), text


def the_probe() -> Probe:
    return Probe(files={}, pytest_plugins=(), output_env=OUTPUT_ENV)


def _call_args(target: FunctionTarget, args: tuple[str, ...]) -> str:
    positional = [v for p, v in zip(target.params, args, strict=True) if not p.keyword_only]
    keywords = [
        f"{p.name!r}: {v}" for p, v in zip(target.params, args, strict=True) if p.keyword_only
    ]
    tuple_text = f"({', '.join(positional)}{',' if len(positional) == 1 else ''})"
    return f"{tuple_text}, {{{', '.join(keywords)}}}"


def read_observation(
    data: str, cases: list[tuple[str, ...]], *, project_imports_hypothesis: bool = False
) -> Observation:
    """What the probe saw; property tests only when hypothesis is the project's: in its
    environment, or imported by its own code (which the user's environment then runs)."""
    raw: dict[str, Any] = json.loads(data)
    whose = raw.get("hypothesis")
    hypothesis = whose == "project" or (whose == "sandbox" and project_imports_hypothesis)
    found = []
    for args, entry in zip(cases, raw.get("cases", []), strict=False):
        found.append(
            Observed(
                args=args,
                outcome=str(entry.get("outcome", "")),
                repr=entry.get("repr"),
                type=str(entry.get("type", "")),
                module=str(entry.get("module", "")),
                message=str(entry.get("message", "")),
                deterministic=bool(entry.get("deterministic")),
                idempotent=entry.get("idempotent"),
            )
        )
    return Observation(tuple(found), hypothesis)
