"""Hard-coded secrets (FL3xx) in Python, JavaScript and TypeScript.

FL301 to FL303 look for credentials with a recognisable shape in every string and comment;
the three share one query and one regex (run once per node, in C) so that the thousands
of strings of a file cost a single pass. FL304 looks only at string values given to a
secret-sounding name; entropy is computed for those few candidates alone.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from fixloop.analysis.findings import Finding, Group, Severity
from fixloop.analysis.rules import Match, Rule, register, run_rules
from fixloop.analysis.safety._common import redact
from fixloop.analysis.source import Span

if TYPE_CHECKING:
    from tree_sitter import Node

    from fixloop.analysis.languages import LanguageSpec

ALL = frozenset({"python", "javascript", "typescript", "tsx"})
JS_FAMILY = frozenset({"javascript", "typescript", "tsx"})

# Every branch starts with a literal character: `re` then skips ahead with a character-set
# scan instead of trying each branch at each byte (5x faster on a large file).
_KNOWN = re.compile(
    rb"AKIA[0-9A-Z]{16}|ASIA[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{35}"
    rb"|-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----"
    rb"|gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255}"
    rb"|xox[abposr]-[0-9A-Za-z-]{10,}"
    rb"|rk_live_[0-9A-Za-z]{16,}|sk_live_[0-9A-Za-z]{16,}"
    rb"|sk-(?:proj-|svcacct-|admin-|ant-)?(?=[A-Za-z_-]{0,64}[0-9])[A-Za-z0-9_-]{32,}"
    rb"|glpat-[0-9A-Za-z_-]{20,}|npm_[A-Za-z0-9]{36}"
    rb"|pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}|hf_[A-Za-z]{34}"
    rb"|SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}|GOCSPX-[A-Za-z0-9_-]{28}"
)
_SHORTEST_KNOWN = 15  # xox?- and ten characters: nodes shorter than this cannot hold one
_WORD = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
# Key material (base64, maybe after `Proc-Type:` style headers) right after a BEGIN line:
# a PEM parser's `"-----BEGIN PRIVATE KEY-----"` constant is not a key.
_KEY_BODY = re.compile(
    # Each header line must end at a newline: with nothing to tell one `Name: value` from
    # the next, `re` backtracks exponentially on text such as `a: a: a: …`.
    rb"(?:\s|\\[nr])*(?:[A-Za-z-]+:[^\n\\]*(?:\n|\\n)(?:\s|\\[nr])*)*[A-Za-z0-9+/=]{40}"
)
_KEY_LOOKAHEAD = 1000  # bytes after a BEGIN line where key data must start
_KEY_END = re.compile(rb"-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----")
_PROVIDERS: Sequence[tuple[bytes, str]] = (
    (b"AKIA", "an AWS access key"),
    (b"ASIA", "an AWS temporary access key"),
    (b"AIza", "a Google API key"),
    (b"gh", "a GitHub token"),
    (b"github_pat_", "a GitHub token"),
    (b"xox", "a Slack token"),
    (b"sk_live_", "a Stripe secret key"),
    (b"rk_live_", "a Stripe restricted key"),
    (b"sk-", "an API key (OpenAI-style)"),
    (b"glpat-", "a GitLab token"),
    (b"npm_", "an npm token"),
    (b"pypi-", "a PyPI token"),
    (b"hf_", "a Hugging Face token"),
    (b"SG.", "a SendGrid key"),
    (b"GOCSPX-", "a Google OAuth client secret"),
)


def shannon_entropy(text: str) -> float:
    """Bits per character of `text` (0 for an empty or one-letter string)."""
    size = len(text)
    return -sum(n / size * math.log2(n / size) for n in Counter(text).values()) if size else 0.0


def _provider(token: bytes) -> str:
    return next((name for prefix, name in _PROVIDERS if token.startswith(prefix)), "a token")


def _is_placeholder(token: bytes) -> bool:
    """Documentation keys (AKIAIOSFODNN7EXAMPLE) and `ghp_xxxx…` style stand-ins."""
    text = token.decode("ascii", "replace")
    return "EXAMPLE" in text.upper() or shannon_entropy(text[4:]) < 2.5


def _private_key_span(source: bytes, start: int, end: int, limit: int) -> Span | None:
    if not _KEY_BODY.match(source, end, min(limit, end + _KEY_LOOKAHEAD)):
        return None
    tail = _KEY_END.search(source, end, limit)
    return Span(start, tail.end() if tail else end)


def _check_known(rule: Rule, match: Match) -> list[Finding]:
    node = match.captures["text"][0]
    start, end = node.start_byte, node.end_byte
    if end - start < _SHORTEST_KNOWN:
        return []
    source = match.source
    findings = []
    for hit in _KNOWN.finditer(source, start, end):
        token, first = hit.group(), hit.start()
        if token.startswith(b"-----"):
            span = _private_key_span(source, first, hit.end(), _literal_end(node))
            if span is not None:
                message = f"Hard-coded private key ({token.strip(b'-').decode()[6:]})"
                findings.append(PRIVATE_KEY.finding(span, message))
            continue
        if (first > 0 and source[first - 1] in _WORD) or (
            hit.end() < len(source) and source[hit.end()] in _WORD
        ):
            continue  # part of a longer word: an identifier, a hash, base64 data
        if _is_placeholder(token):
            continue
        kind = CLOUD_KEY if token[:4] in (b"AKIA", b"ASIA", b"AIza") else API_TOKEN
        secret = token.decode("ascii", "replace")
        message = f"Hard-coded credential: {_provider(token)} ({redact(secret)})"
        findings.append(kind.finding(Span(first, hit.end()), message))
    return findings


def _literal_end(node: Node) -> int:
    """Where the literal holding `node` ends (JS splits strings at escapes like `\\n`)."""
    parent = node.parent
    if node.type == "string_fragment" and parent is not None:
        return parent.end_byte
    return node.end_byte


def _known_rule(code: str, name: str, explanation: str) -> Rule:
    return Rule(
        code=code,
        name=name,
        group=Group.SECRETS,
        severity=Severity.ERROR,
        languages=ALL,
        query=_PYTHON_TEXT,
        check=_check_known,
        explanation=explanation,
    )


_PYTHON_TEXT = "[(string_content) (comment)] @text"
_JS_TEXT = "[(string_fragment) (comment)] @text"

CLOUD_KEY = _known_rule(
    "FL301",
    "cloud-access-key",
    "A cloud access key in the source is shared with everyone who can read the repository "
    "and its history. Revoke it, then load it from the environment or a secret store.",
)
PRIVATE_KEY = _known_rule(
    "FL302",
    "private-key",
    "A private key in the source is no longer private. Revoke it and keep keys in files "
    "outside the repository or in a secret store.",
)
API_TOKEN = _known_rule(
    "FL303",
    "api-token",
    "A token with a known provider prefix grants access as its owner. Revoke it, then load "
    "it from the environment or a secret store.",
)
# The three codes share one scan: registered once per grammar family (under FL301's
# entry) so that each string is matched once, not three times; `_check_known` files each
# hit under its own code.
KNOWN_SECRETS_PYTHON = replace(CLOUD_KEY, languages=frozenset({"python"}))
KNOWN_SECRETS_JS = replace(CLOUD_KEY, languages=JS_FAMILY, query=_JS_TEXT)


# --- FL304 high-entropy values of secret-sounding names -------------------------------

# A cheap filter in the query (C); the exact decision on the name's words is below.
_NAME_FILTER = "(?i)(pass|pwd|secret|token|key|auth|credential)"
_NAME_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_SECRET_WORDS = frozenset(
    {
        "password", "passwd", "pwd", "passphrase", "secret", "secrets", "token", "tokens",
        "apikey", "auth", "authorization", "credential", "credentials", "privatekey",
    }
)  # fmt: skip
_SECRET_PAIRS = frozenset(
    {("api", "key"), ("access", "key"), ("private", "key"), ("signing", "key"),
     ("encryption", "key"), ("auth", "key"), ("master", "key"), ("pass", "word")}
)  # fmt: skip
# Names that describe a secret without holding one: `token_url`, `password_hash`.
_NOT_SECRET_WORDS = frozenset(
    {
        "hash", "hashed", "digest", "checksum", "url", "uri", "endpoint", "path", "file",
        "filename", "dir", "name", "env", "var", "type", "field", "prefix", "label",
        "format", "pattern", "regex", "template", "length", "count", "limit", "timeout",
        "ttl", "id", "policy", "hint", "placeholder", "author", "authority", "prompt",
    }
)  # fmt: skip
_PASSWORD_WORDS = frozenset({"password", "passwd", "pwd", "passphrase"})
# Stand-ins, templates (`${X}`, `{{ x }}`, `%(x)s`, `<token>`), URLs, paths and e-mails.
_PLACEHOLDER = re.compile(
    r"(?i)example|sample|placeholder|change.?me|dummy|fake|redacted|your|xxx|\*\*\*"
    r"|^<.*>$|^\$\w|\$\{|\{\{|\{\}|%s|%\(|^test|^none$|^null$|^todo|://|^[./~]"
    r"|^[^@]+@[\w-]+\.[\w.]+$"
)
_HEX = re.compile(r"[0-9a-f]+|[0-9A-F]+")
_AUTH_SCHEME = re.compile(r"(?i)(?:bearer|basic|token|digest)\s+(\S+)")


def _name_words(name: str) -> list[str]:
    return [word.lower() for word in _NAME_WORDS.findall(name)]


def is_secret_name(name: str) -> bool:
    """Does the name say its value is a secret (`apiKey`, `DB_PASSWORD`, `client_secret`)?"""
    words = _name_words(name)
    if not words or _NOT_SECRET_WORDS.intersection(words):
        return False
    return bool(_SECRET_WORDS.intersection(words)) or any(
        pair in _SECRET_PAIRS for pair in itertools.pairwise(words)
    )


def _classes(text: str) -> int:
    return (
        any(c.islower() for c in text)
        + any(c.isupper() for c in text)
        + any(c.isdigit() for c in text)
        + any(not c.isalnum() for c in text)
    )


def looks_random(value: str, password: bool = False) -> bool:
    """Is the value of a secret-sounding name a real-looking secret?

    Long values (16+) need high entropy and digits among letters (words such as
    `TOKEN_EXPIRED_ERROR` or `waitForTaskToken` have none); hex needs 20 characters; a
    password may be shorter (8) when it mixes three kinds of characters.
    """
    scheme = _AUTH_SCHEME.fullmatch(value)
    if scheme:
        value = scheme.group(1)
    if any(c.isspace() for c in value) or _PLACEHOLDER.search(value):
        return False
    size, entropy = len(value), shannon_entropy(value)
    if _HEX.fullmatch(value):
        return size >= 20 and entropy >= 3.0
    if size >= 16:  # digits among letters: camelCase words (`waitForTaskToken`) have none
        has_digit = any(c.isdigit() for c in value)
        return entropy >= 3.5 and has_digit and any(c.isalpha() for c in value)
    return password and size >= 8 and _classes(value) >= 3 and entropy >= 2.5


def _string_value(match: Match, value: Node) -> str | None:
    """The text of a plain string literal (no interpolation, no escapes), else None."""
    parts = [c for c in value.named_children if c.type in ("string_content", "string_fragment")]
    others = [c for c in value.named_children if c.type not in ("string_start", "string_end")]
    if len(parts) != 1 or len(others) != 1 or parts[0].named_child_count:
        return None
    return match.text(parts[0])


def _check_assigned(rule: Rule, match: Match) -> Iterable[Finding]:
    name_node, value_node = match.node("name"), match.node("value")
    if name_node is None or value_node is None:
        return ()
    name = match.text(name_node)
    if not is_secret_name(name):
        return ()
    value = _string_value(match, value_node)
    if value is None or _KNOWN.search(value.encode()):
        return ()  # a known token shape is FL301 to FL303's finding already
    password = bool(_PASSWORD_WORDS.intersection(_name_words(name)))
    if not looks_random(value, password):
        return ()
    message = f"`{name}` is set to a hard-coded secret ({redact(value)})"
    return (rule.finding(value_node, message),)


_FL304_EXPLANATION = (
    "A secret written in the source is shared with everyone who can read the repository "
    "and its history. Read it from the environment or a secret store instead."
)


def _assigned_rule(languages: frozenset[str], query: str) -> Rule:
    return Rule(
        code="FL304",
        name="hard-coded-secret",
        group=Group.SECRETS,
        severity=Severity.WARNING,
        languages=languages,
        query=query.replace("NAME", _NAME_FILTER),
        check=_check_assigned,
        explanation=_FL304_EXPLANATION,
    )


_PY_ASSIGNED = """
((assignment
   left: [(identifier) @name
          (attribute attribute: (identifier) @name)
          (subscript subscript: (string (string_content) @name))]
   right: (string) @value) (#match? @name "NAME"))
((keyword_argument name: (identifier) @name value: (string) @value) (#match? @name "NAME"))
([(default_parameter name: (identifier) @name value: (string) @value)
  (typed_default_parameter name: (identifier) @name value: (string) @value)]
 (#match? @name "NAME"))
((pair key: (string (string_content) @name) value: (string) @value) (#match? @name "NAME"))
"""
_JS_VALUE = "[(string) (template_string)] @value"
_JS_ASSIGNED = f"""
((variable_declarator name: (identifier) @name value: {_JS_VALUE}) (#match? @name "NAME"))
((assignment_expression
   left: [(identifier) @name
          (member_expression property: (property_identifier) @name)
          (subscript_expression index: (string (string_fragment) @name))]
   right: {_JS_VALUE}) (#match? @name "NAME"))
((pair key: [(property_identifier) @name (string (string_fragment) @name)] value: {_JS_VALUE})
 (#match? @name "NAME"))
((assignment_pattern left: (identifier) @name right: {_JS_VALUE}) (#match? @name "NAME"))
((object_assignment_pattern left: (shorthand_property_identifier_pattern) @name
   right: {_JS_VALUE}) (#match? @name "NAME"))
"""
_JS_FIELD = f"""
((field_definition property: (property_identifier) @name value: {_JS_VALUE})
 (#match? @name "NAME"))
"""
_TS_FIELD = f"""
((public_field_definition name: (property_identifier) @name value: {_JS_VALUE})
 (#match? @name "NAME"))
([(required_parameter pattern: (identifier) @name value: {_JS_VALUE})
  (optional_parameter pattern: (identifier) @name value: {_JS_VALUE})]
 (#match? @name "NAME"))
"""
_JSX = f"""
((jsx_attribute (property_identifier) @name {_JS_VALUE}) (#match? @name "NAME"))
"""

ASSIGNED_PYTHON = _assigned_rule(frozenset({"python"}), _PY_ASSIGNED)
ASSIGNED_JAVASCRIPT = _assigned_rule(frozenset({"javascript"}), _JS_ASSIGNED + _JS_FIELD + _JSX)
ASSIGNED_TYPESCRIPT = _assigned_rule(frozenset({"typescript"}), _JS_ASSIGNED + _TS_FIELD)
ASSIGNED_TSX = _assigned_rule(frozenset({"tsx"}), _JS_ASSIGNED + _TS_FIELD + _JSX)

register(
    KNOWN_SECRETS_PYTHON,
    KNOWN_SECRETS_JS,
    ASSIGNED_PYTHON,
    ASSIGNED_JAVASCRIPT,
    ASSIGNED_TYPESCRIPT,
    ASSIGNED_TSX,
)


def secret_findings(language: LanguageSpec, source: bytes) -> list[Finding]:
    """What the secret rules (FL301-FL304) find in a file's text: what redaction removes
    before code leaves the machine (the model) or is stored (memory)."""
    tree = language.parser().parse(source)
    return run_rules(tree, source, language.name, enabled=lambda rule: rule.group is Group.SECRETS)
