"""The language registry: which files fixloop parses, and with which tree-sitter grammar.

Adding a language (Go, Rust, …) is one `LanguageSpec` entry here plus its wheel in
pyproject; syntax diagnostics then work for it with no other change.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from pathlib import PurePath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tree_sitter


@dataclass(frozen=True, slots=True)
class LanguageSpec:
    name: str
    language_ids: tuple[str, ...]
    extensions: tuple[str, ...]
    module: str
    function: str = "language"

    def grammar(self) -> tree_sitter.Language:
        return _grammar(self.module, self.function)

    def parser(self) -> tree_sitter.Parser:
        import tree_sitter

        return tree_sitter.Parser(self.grammar())


@cache
def _grammar(module: str, function: str) -> tree_sitter.Language:
    import tree_sitter

    return tree_sitter.Language(getattr(importlib.import_module(module), function)())


LANGUAGES: tuple[LanguageSpec, ...] = (
    LanguageSpec("python", ("python",), (".py", ".pyi", ".pyw"), "tree_sitter_python"),
    LanguageSpec(
        "javascript",
        ("javascript", "javascriptreact"),
        (".js", ".mjs", ".cjs", ".jsx"),
        "tree_sitter_javascript",
    ),
    LanguageSpec(
        "typescript",
        ("typescript",),
        (".ts", ".mts", ".cts"),
        "tree_sitter_typescript",
        "language_typescript",
    ),
    LanguageSpec("tsx", ("typescriptreact",), (".tsx",), "tree_sitter_typescript", "language_tsx"),
)

_BY_ID = {language_id: spec for spec in LANGUAGES for language_id in spec.language_ids}
_BY_EXTENSION = {ext: spec for spec in LANGUAGES for ext in spec.extensions}


def language_for(
    path: str | PurePath | None = None, language_id: str | None = None
) -> LanguageSpec | None:
    """The language of a document: by the editor's language id first, else by extension.

    Unknown languages give None: fixloop ignores those files.
    """
    if language_id and language_id in _BY_ID:
        return _BY_ID[language_id]
    if path is not None:
        return _BY_EXTENSION.get(PurePath(path).suffix.lower())
    return None
