"""Every code fixloop reports, documented: what `fixloop rule` prints, what SARIF's rule
metadata carries, and what a suppression may name (an unknown code is reported).

The safety rules' name, group, severity and explanation come from their `Rule` (one place
for each fact); this module adds what only the documentation needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from fixloop.analysis.findings import Group, Severity

# Where the README is published: `helpUri` of each SARIF rule points to its section there.
README_URL = "https://github.com/fixloop/fixloop/blob/main/README.md"

CODE_UNUSED_SUPPRESSION = "FL006"
CODE_UNKNOWN_SUPPRESSION = "FL007"


@dataclass(frozen=True, slots=True)
class RuleDoc:
    code: str
    name: str
    group: Group
    severity: Severity
    languages: str
    summary: str  # what it flags, one line
    why: str
    example: str  # code it flags
    tags: tuple[str, ...] = ()
    # GitHub code scanning's 0.0-10.0 score (CVSS-like) for the security rules.
    security_severity: float | None = None

    @property
    def anchor(self) -> str:
        """The README heading's anchor: `### FL102 subprocess-shell` → `fl102-subprocess-shell`."""
        return f"{self.code.lower()}-{self.name}"

    @property
    def help_uri(self) -> str:
        return f"{README_URL}#{self.anchor}"

    def silence(self) -> str:
        comment = "#" if self.languages == "Python" else "//"
        if self.languages.startswith("all"):
            comment = "# (Python) or //"
        return (
            f"on the line: `{comment} fixloop: ignore[{self.code}]`; in a file or folder: "
            f'`per-file-ignores = {{ "path/*" = ["{self.code}"] }}` under '
            f'[tool.fixloop.diagnostics]; everywhere: `ignore = ["{self.code}"]` there'
        )

    def markdown(self) -> str:
        fence = "python" if self.languages == "Python" else "javascript"
        if self.languages.startswith("all"):
            fence = ""
        return (
            f"**{self.code} {self.name}** ({self.severity.value}, {self.languages}): "
            f"{self.summary}\n\n{self.why}\n\nExample:\n\n```{fence}\n{self.example}\n```\n\n"
            f"Silence it {self.silence()}."
        )

    def text(self) -> str:
        return (
            f"{self.code} {self.name} ({self.group.value}, {self.severity.value}; "
            f"{self.languages})\n\nWhat: {self.summary}\n\nWhy: {self.why}\n\nExample:\n"
            + "\n".join(f"    {line}" for line in self.example.splitlines())
            + f"\n\nSilence it {self.silence()}.\n\nMore: {self.help_uri}"
        )


_ALL = "all four languages"
_JS = "JavaScript, TypeScript, TSX"

# (summary, example, languages, tags, security severity) of each rule that the registry holds.
_SAFETY: dict[str, tuple[str, str, str, tuple[str, ...], float]] = {
    "FL101": (
        "eval, exec or compile on code built at run time",
        "eval(request.args['expr'])",
        "Python",
        ("security", "external/cwe/cwe-95"),
        8.8,
    ),
    "FL102": (
        "subprocess with shell=True, subprocess.getoutput / getstatusoutput",
        'subprocess.run(f"tar xf {name}", shell=True)',
        "Python",
        ("security", "external/cwe/cwe-78"),
        8.8,
    ),
    "FL103": (
        "os.system or os.popen",
        'os.system("rm -rf " + folder)',
        "Python",
        ("security", "external/cwe/cwe-78"),
        8.8,
    ),
    "FL104": (
        "pickle, cPickle, marshal or dill loading data",
        "pickle.loads(payload)",
        "Python",
        ("security", "external/cwe/cwe-502"),
        8.1,
    ),
    "FL105": (
        "tempfile.mktemp, which only picks a name",
        "path = tempfile.mktemp()",
        "Python",
        ("security", "external/cwe/cwe-377"),
        5.3,
    ),
    "FL106": (
        "yaml.load / load_all / unsafe_load without a safe loader",
        "yaml.load(text, Loader=yaml.Loader)",
        "Python",
        ("security", "external/cwe/cwe-502"),
        8.1,
    ),
    "FL201": (
        "eval on code built at run time",
        "eval(location.hash.slice(1))",
        _JS,
        ("security", "external/cwe/cwe-95"),
        8.8,
    ),
    "FL202": (
        "new Function(...) with a non-literal argument",
        "const f = new Function('x', body);",
        _JS,
        ("security", "external/cwe/cwe-95"),
        8.8,
    ),
    "FL203": (
        "child_process exec / execSync with a built command",
        "exec(`git log ${branch}`);",
        _JS,
        ("security", "external/cwe/cwe-78"),
        8.8,
    ),
    "FL204": (
        "markup built at run time written into the page (innerHTML, document.write, "
        "dangerouslySetInnerHTML)",
        "element.innerHTML = comment.body;",
        _JS,
        ("security", "external/cwe/cwe-79"),
        6.1,
    ),
    "FL301": (
        "a cloud access key (AWS AKIA/ASIA…, Google AIza…) in a string or comment",
        'AWS_KEY = "AKIA…"  # a real key',
        _ALL,
        ("security", "secret", "external/cwe/cwe-798"),
        9.1,
    ),
    "FL302": (
        "a private key block (BEGIN … PRIVATE KEY with key data)",
        'KEY = """-----BEGIN RSA PRIVATE KEY-----\nMIIE…"""',
        _ALL,
        ("security", "secret", "external/cwe/cwe-798"),
        9.1,
    ),
    "FL303": (
        "a token with a known provider prefix (GitHub, Slack, Stripe, OpenAI, …)",
        'token = "ghp_…"  # a real token',
        _ALL,
        ("security", "secret", "external/cwe/cwe-798"),
        9.1,
    ),
    "FL304": (
        "a high-entropy string given to a secret-sounding name",
        'db_password = "x9F!q2Lr8vT0pZ"',
        _ALL,
        ("security", "secret", "external/cwe/cwe-798"),
        7.5,
    ),
}

_OTHERS = (
    RuleDoc(
        "FL001",
        "syntax-error",
        Group.SYNTAX,
        Severity.ERROR,
        _ALL,
        "code that does not parse",
        "The code around here does not parse; the rest of the file may be read "
        "differently until it is fixed.",
        "def f(:\n    pass",
        ("correctness",),
    ),
    RuleDoc(
        "FL002",
        "missing-token",
        Group.SYNTAX,
        Severity.ERROR,
        _ALL,
        "a token the parser expected and did not find (a closing bracket, a colon)",
        "The parser expected this token here and did not find it.",
        "print(1",
        ("correctness",),
    ),
    RuleDoc(
        "FL003",
        "not-utf8",
        Group.SYNTAX,
        Severity.WARNING,
        _ALL,
        "a file that is not valid UTF-8",
        "Positions after the first invalid byte may be off; save the file as UTF-8.",
        "(the bytes 0xff 0xfe in a .py file)",
        ("correctness",),
    ),
    RuleDoc(
        "FL004",
        "file-too-large",
        Group.SYNTAX,
        Severity.INFO,
        _ALL,
        "a file over diagnostics.max-file-bytes, not analysed",
        "Analysing a huge (often generated) file would freeze the editor; raise the limit "
        "to have it analysed.",
        "(a 5 MB generated module)",
        ("maintainability",),
    ),
    RuleDoc(
        "FL005",
        "too-complex",
        Group.SYNTAX,
        Severity.INFO,
        _ALL,
        "a file too complex to parse or check within fixloop's time budget",
        "fixloop bounds the time one file may cost, so that the editor never waits on it; "
        "simplify or split the file to have it analysed in full.",
        "(thousands of nested brackets)",
        ("maintainability",),
    ),
    RuleDoc(
        CODE_UNUSED_SUPPRESSION,
        "unused-suppression",
        Group.SYNTAX,
        Severity.WARNING,
        _ALL,
        "a `fixloop: ignore` comment that silences nothing on its line",
        "A suppression left behind after the code changed would silence the next real "
        "finding on that line without anyone deciding so. Remove it.",
        "x = 1  # fixloop: ignore[FL102]",
        ("maintainability",),
    ),
    RuleDoc(
        CODE_UNKNOWN_SUPPRESSION,
        "unknown-suppression-code",
        Group.SYNTAX,
        Severity.WARNING,
        _ALL,
        "a `fixloop: ignore[…]` comment naming a code fixloop does not have",
        "A mistyped code silences nothing: the finding it was meant for is still reported, "
        "or was never there. `fixloop rule --all` lists the codes.",
        "os.system(cmd)  # fixloop: ignore[FL1O3]",
        ("maintainability",),
    ),
)


@cache
def rule_docs() -> dict[str, RuleDoc]:
    """Every code, in code order."""
    from fixloop.analysis.rules import Rule
    from fixloop.analysis.safety import javascript_rules, python_rules, secrets

    rules: dict[str, Rule] = {}
    for module in (python_rules, javascript_rules, secrets):
        for value in vars(module).values():
            if isinstance(value, Rule):
                rules.setdefault(value.code, value)
    docs = {doc.code: doc for doc in _OTHERS}
    for code, (summary, example, languages, tags, score) in _SAFETY.items():
        rule = rules[code]
        docs[code] = RuleDoc(
            code,
            rule.name,
            rule.group,
            rule.severity,
            languages,
            summary,
            rule.explanation,
            example,
            tags,
            score,
        )
    return dict(sorted(docs.items()))


def known_codes() -> frozenset[str]:
    return frozenset(rule_docs())
