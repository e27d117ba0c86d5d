"""Secrets stay on this machine: every text sent to a model goes through a `Redactor`.

The secrets are what the safety rules find in the sources (FL301 to FL304), the values of
environment variables that look like keys, and — in any text, including test output that
quotes a test file — every token with a known provider shape. Each is replaced by
`<redacted:FL30x>` (or `<redacted:env>`); a multi-line key keeps its line count so that
the line numbers shown to the model stay true.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass

PLACEHOLDER_MARK = "<redacted"
ENV_LABEL = "env"
# Shorter values are too likely to occur in code by chance to be replaced everywhere.
_MIN_SECRET = 8
_MIN_ENV_SECRET = 16
_QUOTED = re.compile(r"^[rRbBuUfF]{0,2}(\"\"\"|'''|\"|'|`)(.*)\1$", re.DOTALL)
_KEY_BEGIN = re.compile(r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----")
_KEY_END = re.compile(r"-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----")
_KEY_DATA = re.compile(r"[A-Za-z0-9+/=]{40}")
_KEY_DATA_LINE = re.compile(r"[\s+\\n\"',]*[A-Za-z0-9+/=]{16,}[\s\\n\"',]*$")


def placeholder(label: str) -> str:
    return f"{PLACEHOLDER_MARK}:{label}>"


@dataclass(frozen=True)
class Secret:
    text: str
    label: str  # the rule's code ("FL301") or "env"


class Redactor:
    """Replaces known secrets in text; `restore` undoes it for text quoted back to us."""

    def __init__(self, secrets: Iterable[Secret] = ()) -> None:
        unique = {s.text: s for s in secrets if len(s.text) >= _MIN_SECRET}
        pieces = list(unique.values())
        # Each long line of a multi-line key on its own too: a diff prefixes every line.
        for secret in list(pieces):
            if "\n" in secret.text:
                for line in secret.text.splitlines():
                    if len(line.strip()) >= 20 and line.strip() not in unique:
                        pieces.append(Secret(line.strip(), secret.label))
        # Longest first, so that a secret holding another is replaced whole.
        self.secrets = tuple(sorted(pieces, key=lambda s: -len(s.text)))

    @classmethod
    def for_sources(
        cls,
        sources: Mapping[str, str],
        environ: Mapping[str, str] | None = None,
        always: Iterable[str] = (),
    ) -> Redactor:
        """A redactor for the sources' secrets, the environment's key-like values and
        `always` (the model's own API key)."""
        found = [secret for path, text in sources.items() for secret in _rule_secrets(path, text)]
        found.extend(_environment_secrets(environ or {}))
        found.extend(Secret(value, ENV_LABEL) for value in always if value)
        return cls(found)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            if secret.text in text:
                text = text.replace(secret.text, _stand_in(secret))
        return _redact_known_shapes(text)

    def restore(self, text: str) -> str:
        """Placeholders back to their secret where one label stands for one secret: a
        SEARCH text that quotes a redacted line must still match the real file."""
        by_label: dict[str, set[str]] = {}
        for secret in self.secrets:
            if "\n" not in secret.text:
                by_label.setdefault(secret.label, set()).add(secret.text)
        for label, texts in by_label.items():
            if len(texts) == 1:
                text = text.replace(placeholder(label), next(iter(texts)))
        return text


def _stand_in(secret: Secret) -> str:
    return placeholder(secret.label) + "\n" * secret.text.count("\n")


def _rule_secrets(path: str, text: str) -> Iterator[Secret]:
    from fixloop.analysis.languages import language_for
    from fixloop.analysis.safety.secrets import secret_findings

    spec = language_for(path)
    if spec is None:
        return
    source = text.encode("utf-8")
    for finding in secret_findings(spec, source):
        value = source[finding.span.start : finding.span.end].decode("utf-8", "replace")
        quoted = _QUOTED.match(value)
        yield Secret(quoted.group(2) if quoted else value, finding.code)


def _environment_secrets(environ: Mapping[str, str]) -> Iterator[Secret]:
    from fixloop.analysis.safety.secrets import _KNOWN, is_secret_name, looks_random

    for name, raw in environ.items():
        value = raw.strip()
        if len(value) < _MIN_SECRET:
            continue
        known = _KNOWN.fullmatch(value.encode("utf-8", "replace")) is not None
        named = is_secret_name(name) and looks_random(value, password=True)
        if known or named or (len(value) >= _MIN_ENV_SECRET and looks_random(value)):
            yield Secret(value, ENV_LABEL)


def _redact_known_shapes(text: str) -> str:
    """Tokens with a provider's shape anywhere (not only in the sources' strings)."""
    from fixloop.analysis.safety.secrets import _KNOWN

    text = _redact_private_keys(text)
    data = text.encode("utf-8", "surrogateescape")
    if not _KNOWN.search(data):
        return text
    return _KNOWN.sub(_known_stand_in, data).decode("utf-8", "surrogateescape")


def _known_stand_in(hit: re.Match[bytes]) -> bytes:
    token = hit.group()
    if token.startswith(b"-----"):  # a bare BEGIN line: real keys went whole, above
        return token
    return placeholder(_label(token)).encode()


def _redact_private_keys(text: str) -> str:
    """Whole key blocks (a PEM parser's bare "BEGIN … PRIVATE KEY" constant is no key)."""
    position = 0
    while begin := _KEY_BEGIN.search(text, position):
        if not _KEY_DATA.search(text, begin.end(), begin.end() + 300):
            position = begin.end()
            continue
        end = _KEY_END.search(text, begin.end(), begin.end() + 20_000)
        stop = end.end() if end else _end_of_key_data(text, begin.end())
        stand_in = _stand_in(Secret(text[begin.start() : stop], "FL302"))
        text = text[: begin.start()] + stand_in + text[stop:]
        position = begin.start() + len(stand_in)
    return text


def _end_of_key_data(text: str, start: int) -> int:
    """Where the base64 lines after a BEGIN line end (no END line was found)."""
    stop = text.find("\n", start)
    while stop != -1:
        following = text.find("\n", stop + 1)
        line = text[stop + 1 : following if following != -1 else len(text)]
        if not _KEY_DATA_LINE.match(line):
            return stop
        if following == -1:
            return len(text)
        stop = following
    return len(text)


def _label(token: bytes) -> str:
    return "FL301" if token[:4] in (b"AKIA", b"ASIA", b"AIza") else "FL303"


def contains_placeholder(text: str) -> bool:
    return PLACEHOLDER_MARK in text
