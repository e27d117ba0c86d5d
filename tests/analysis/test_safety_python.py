"""Python safety rules FL101-FL106: true positives, the false positives to avoid, fixes."""

from __future__ import annotations

import pytest

from fixloop.analysis.findings import Group, Severity

# --- true and false positives, per rule ------------------------------------------------

FLAGGED = [
    # FL101
    ("FL101", "eval(user_input)"),
    ("FL101", "exec(code, {})"),
    ("FL101", 'eval(f"1 + {x}")'),
    ("FL101", 'eval("1 + " + x)'),
    ("FL101", 'compile(source, "<string>", "exec")'),
    ("FL101", "compile(source, path, mode='eval')"),
    ("FL101", "builtins.eval(expr)"),
    # FL102
    ("FL102", 'subprocess.run("ls -l", shell=True)'),
    ("FL102", "subprocess.Popen(cmd, shell=True, stdout=PIPE)"),
    ("FL102", 'subprocess.call(f"rm {path}", shell=True)'),
    ("FL102", 'subprocess.check_call("make", shell=True)'),
    ("FL102", 'subprocess.check_output("git log | head", shell=True)'),
    ("FL102", 'sp.run("ls", shell=True)'),  # import subprocess as sp
    ("FL102", "run(command, shell=True)"),  # from subprocess import run
    ("FL102", "Popen(command, shell=True)"),
    ("FL102", "subprocess.getoutput(cmd)"),
    ("FL102", 'subprocess.getstatusoutput("ls")'),
    # FL103
    ("FL103", "os.system(cmd)"),
    ("FL103", 'os.system("clear")'),
    ("FL103", 'os.popen("ls").read()'),
    # FL104
    ("FL104", "pickle.loads(data)"),
    ("FL104", "pickle.load(handle)"),
    ("FL104", "cPickle.loads(data)"),
    ("FL104", "marshal.loads(data)"),
    ("FL104", "pickle.Unpickler(stream).load()"),
    ("FL104", "dill.loads(blob)"),
    # FL105
    ("FL105", "path = tempfile.mktemp()"),
    ("FL105", 'path = tempfile.mktemp(suffix=".txt")'),
    ("FL105", "path = mktemp()"),  # from tempfile import mktemp
    # FL106
    ("FL106", "yaml.load(stream)"),
    ("FL106", "yaml.load(stream, Loader=yaml.Loader)"),
    ("FL106", "yaml.load(stream, Loader=yaml.FullLoader)"),
    ("FL106", "yaml.load(stream, Loader=yaml.UnsafeLoader)"),
    ("FL106", "yaml.load(stream, yaml.Loader)"),
    ("FL106", "yaml.load_all(stream)"),
    ("FL106", "yaml.unsafe_load(stream)"),
]

NOT_FLAGGED = [
    # FL101: literals run fixed code; methods named eval are not the builtin
    'eval("1 + 1")',
    "exec('import os')",
    'eval("a" "b")',
    "model.eval()",
    "df.eval(expression)",
    "ast.literal_eval(text)",
    "compile(pattern)",  # from re import compile: the builtin needs three arguments
    "re.compile(pattern)",
    "evaluate(x)",
    # FL102
    'subprocess.run(["ls", "-l"])',
    'subprocess.run(["ls"], shell=False)',
    "subprocess.run(cmd, shell=use_shell)",  # not known to be a shell
    'subprocess.run("ls")',
    'subprocess.Popen(["git", "status"], stdout=PIPE)',
    "runner.start(shell=True)",
    # FL103
    "os.path.join(a, b)",
    "os.getenv('HOME')",
    "platform.system()",
    # FL104
    "json.loads(data)",
    "pickle.dumps(obj)",
    "marshal.dumps(obj)",
    # FL105
    "tempfile.mkstemp()",
    "tempfile.mkdtemp()",
    "tempfile.NamedTemporaryFile()",
    # FL106
    "yaml.safe_load(stream)",
    "yaml.load(stream, Loader=yaml.SafeLoader)",
    "yaml.load(stream, Loader=yaml.CSafeLoader)",
    "yaml.load(stream, Loader=SafeLoader)",
    "yaml.load(stream, Loader=yaml.BaseLoader)",
    "yaml.load(stream, yaml.SafeLoader)",
    "yaml.load(stream, Loader=ProjectSafeLoader)",
    "yaml.load(stream, Loader=Loader)",  # often a local SafeLoader subclass: cannot tell
    "yaml.dump(data)",
    "json.load(stream)",
]


@pytest.mark.parametrize(("code", "source"), FLAGGED)
def test_flags(scan, text_of, code, source):
    findings = scan(source, codes="FL1")
    assert [f.code for f in findings] == [code]
    finding = findings[0]
    assert finding.severity is Severity.WARNING
    assert finding.group is Group.SAFETY
    assert finding.explanation
    assert text_of(source, finding).endswith(")")  # the whole call is underlined


@pytest.mark.parametrize("source", NOT_FLAGGED)
def test_does_not_flag(scan, source):
    assert scan(source, codes="FL1") == []


def test_every_rule_is_flagged_somewhere():
    assert {code for code, _ in FLAGGED} == {f"FL10{n}" for n in range(1, 7)}


def test_messages_name_the_call(scan):
    (finding,) = scan("os.popen(cmd)", codes="FL1")
    assert "os.popen" in finding.message
    (finding,) = scan("pickle.loads(b)", codes="FL1")
    assert "pickle.loads" in finding.message


def test_findings_inside_larger_code(scan, text_of):
    source = """
import subprocess, yaml

def handler(request):
    config = yaml.load(request.body)
    if config:
        return eval(config["expr"])
"""
    findings = scan(source, codes="FL1")
    assert [(f.code, text_of(source, f)) for f in findings] == [
        ("FL106", "yaml.load(request.body)"),
        ("FL101", 'eval(config["expr"])'),
    ]


def test_runs_on_a_window_only(scan):
    from fixloop.analysis.languages import language_for
    from fixloop.analysis.rules import run_rules
    from fixloop.analysis.source import Span

    source = b"os.system(a)\nx = 1\nos.system(b)\n"
    tree = language_for(language_id="python").parser().parse(source)
    second = source.index(b"os.system(b)")
    findings = run_rules(tree, source, "python", window=Span(second, len(source)))
    assert [f.span.start for f in findings] == [second]


# --- fixes ----------------------------------------------------------------------------

SHELL_FIXES = [
    ('subprocess.run("ls -l /tmp", shell=True)', 'subprocess.run(["ls", "-l", "/tmp"])'),
    ("subprocess.run('ls -l', shell=True)", "subprocess.run(['ls', '-l'])"),
    (
        'subprocess.run("make test", shell=True, check=True)',
        'subprocess.run(["make", "test"], check=True)',
    ),
    (
        'subprocess.check_output("git status", cwd=root, shell=True)',
        'subprocess.check_output(["git", "status"], cwd=root)',
    ),
    ('run("ls", shell=True,)', 'run(["ls"],)'),
    (
        'subprocess.run(\n    "ls -l",\n    shell=True,\n)\n',
        'subprocess.run(\n    ["ls", "-l"],\n)\n',
    ),
    ('subprocess.run(r"ls  -la", shell=True)', 'subprocess.run(["ls", "-la"])'),
]


@pytest.mark.parametrize(("source", "expected"), SHELL_FIXES)
def test_shell_fix(scan, apply_fix, source, expected):
    (finding,) = scan(source, codes="FL102")
    assert finding.fix is not None
    assert apply_fix(source, finding.fix) == expected


NO_SHELL_FIX = [
    "subprocess.run(cmd, shell=True)",  # not a literal
    'subprocess.run(f"ls {d}", shell=True)',
    'subprocess.run("ls | wc -l", shell=True)',  # pipes, redirections, globs, variables...
    'subprocess.run("ls > out.txt", shell=True)',
    'subprocess.run("rm *.pyc", shell=True)',
    'subprocess.run("echo $HOME", shell=True)',
    'subprocess.run("echo ~", shell=True)',
    'subprocess.run("a && b", shell=True)',
    "subprocess.run(\"echo 'hi there'\", shell=True)",
    'subprocess.run("echo a\\tb", shell=True)',  # an escape sequence
    'subprocess.run("cd /tmp", shell=True)',  # shell builtins need a shell
    'subprocess.run("export A=1", shell=True)',
    'subprocess.run("dir /b", shell=True)',  # cmd.exe builtins: shell=True on Windows
    'subprocess.run("FOO=1 make", shell=True)',  # variable assignment prefix
    'subprocess.run("", shell=True)',
    'subprocess.run(b"ls", shell=True)',
    'subprocess.run("ls", shell=True, executable="/bin/bash")',
    'subprocess.run("ls",  # list it\n    shell=True)',  # would delete the comment
    "subprocess.run(args='ls', shell=True)",
    'subprocess.run("ls\\\n -l", shell=True)',
    'subprocess.run("ls" "-l", shell=True)',
]


@pytest.mark.parametrize("source", NO_SHELL_FIX)
def test_no_shell_fix_when_unsafe(scan, source):
    (finding,) = scan(source, codes="FL102")
    assert finding.fix is None


YAML_FIXES = [
    ("data = yaml.load(stream)", "data = yaml.safe_load(stream)"),
    ("yaml.load_all(stream)", "yaml.safe_load_all(stream)"),
    ("yaml.load(stream, Loader=yaml.Loader)", "yaml.safe_load(stream)"),
    ("yaml.load(stream, Loader=yaml.FullLoader)", "yaml.safe_load(stream)"),
    ("yaml.load(stream, yaml.UnsafeLoader)", "yaml.safe_load(stream)"),
    ("yaml.load(\n    stream,\n    Loader=yaml.Loader,\n)", "yaml.safe_load(\n    stream,\n)"),
]


@pytest.mark.parametrize(("source", "expected"), YAML_FIXES)
def test_yaml_fix(scan, apply_fix, source, expected):
    (finding,) = scan(source, codes="FL106")
    assert finding.fix is not None
    assert apply_fix(source, finding.fix) == expected


@pytest.mark.parametrize(
    "source",
    [
        "yaml.unsafe_load(stream)",  # explicit: the author asked for it
        "yaml.load(stream, Loader=yaml.Loader, extra=1)",
        "yaml.load(stream, # why\n Loader=yaml.Loader)",
    ],
)
def test_no_yaml_fix(scan, source):
    (finding,) = scan(source, codes="FL106")
    assert finding.fix is None


@pytest.mark.parametrize("source", ["eval(x)", "os.system(c)", "pickle.loads(b)"])
def test_no_fix_for_other_rules(scan, source):
    (finding,) = scan(source, codes="FL1")
    assert finding.fix is None


def test_mktemp_has_no_fix(scan):
    (finding,) = scan("tempfile.mktemp()", codes="FL105")
    assert finding.fix is None


def test_pickle_round_trip_is_not_flagged(scan):
    # The data was produced on the spot: the usual test of picklability.
    assert scan("obj = pickle.loads(pickle.dumps(obj, -1))", codes="FL1") == []
    assert [f.code for f in scan("pickle.loads(blob.dumps())", codes="FL1")] == []
    assert [f.code for f in scan("pickle.loads(fetch(url))", codes="FL1")] == ["FL104"]


LOCALITY_SAMPLE = """import os, subprocess, yaml, pickle, tempfile

def handler(request):
    data = yaml.load(request.body)
    os.system(data["cmd"])
    result = eval(data["expr"])  # KEY
    subprocess.run("ls -l", shell=True)
    token = "Zx8Kq2LmP9vR4tWy7NbQ"
    return pickle.loads(data["blob"]), tempfile.mktemp()
""".replace("KEY", "AKIA" + "Z7VQWERTYU2OPASD")  # assembled: this file holds no key


def test_rules_are_local():
    """A run over any window finds exactly the full run's findings that the window
    intersects (plus, for secrets, others inside the same string): what the incremental
    re-run after an edit relies on."""
    from fixloop.analysis.languages import language_for
    from fixloop.analysis.rules import run_rules
    from fixloop.analysis.source import Span

    data = LOCALITY_SAMPLE.encode()
    tree = language_for(language_id="python").parser().parse(data)
    full = {(f.code, f.span) for f in run_rules(tree, data, "python")}
    assert {code for code, _ in full} == {
        "FL101", "FL102", "FL103", "FL104", "FL105", "FL106", "FL301", "FL304"
    }  # fmt: skip
    for start in range(0, len(data), 7):
        for end in range(start + 1, len(data) + 1, 11):
            window = Span(start, end)
            found = {(f.code, f.span) for f in run_rules(tree, data, "python", window)}
            assert found <= full
            assert {(c, s) for c, s in full if s.start < end and start < s.end} <= found
