"""Small helpers shared by the safety rules: literals, argument edits, redaction."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fixloop.analysis.findings import TextEdit
from fixloop.analysis.source import Span

if TYPE_CHECKING:
    from tree_sitter import Node

# Characters the argument-list edits may step over between two arguments.
_SEPARATOR = b" \t\r\n\\,"


def arguments(args: Node) -> list[Node]:
    """The arguments of an argument list, without comments."""
    return [child for child in args.named_children if child.type != "comment"]


def positional(args: Node) -> list[Node]:
    """Python positional arguments (no keyword, *args or **kwargs)."""
    return [
        child
        for child in arguments(args)
        if child.type
        not in ("keyword_argument", "list_splat", "dictionary_splat", "parenthesized_list_splat")
    ]


def keyword(args: Node, name: str, source: bytes) -> Node | None:
    """The Python `name=value` argument of an argument list, if given."""
    wanted = name.encode()
    for child in args.named_children:
        if child.type == "keyword_argument":
            key = child.child_by_field_name("name")
            if key is not None and source[key.start_byte : key.end_byte] == wanted:
                return child
    return None


def is_python_literal(node: Node) -> bool:
    """A string literal with no interpolation (implicit concatenation included)."""
    if node.type == "concatenated_string":
        return all(is_python_literal(child) for child in node.named_children)
    return node.type == "string" and not any(
        child.type == "interpolation" for child in node.named_children
    )


def is_js_literal(node: Node) -> bool:
    """A JS/TS string, or a template literal without `${…}`."""
    if node.type == "string":
        return True
    return node.type == "template_string" and not any(
        child.type == "template_substitution" for child in node.named_children
    )


def remove_argument(source: bytes, argument: Node) -> TextEdit | None:
    """Delete one argument and the comma that separates it from its neighbour.

    None when a comment sits in the way, so an edit never eats the user's text.
    """
    before = argument.prev_named_sibling
    after = argument.next_named_sibling
    if before is not None:
        start, end = before.end_byte, argument.end_byte
        gap = source[start : argument.start_byte]
    elif after is not None:
        start, end = argument.start_byte, after.start_byte
        gap = source[argument.end_byte : end]
    else:  # the only argument: take a trailing comma along
        comma = argument.next_sibling
        end = comma.end_byte if comma is not None and comma.type == "," else argument.end_byte
        return TextEdit(Span(argument.start_byte, end), "")
    if gap.strip(_SEPARATOR) or gap.count(b",") != 1:
        return None
    return TextEdit(Span(start, end), "")


def redact(secret: str) -> str:
    """What a message may show of a secret: its first four characters."""
    return f"{secret[:4]}…"
