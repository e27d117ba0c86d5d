"""Safety rules for JavaScript and TypeScript (FL2xx): code execution, shells, HTML sinks.

The queries use node types the JavaScript, TypeScript and TSX grammars share, so each rule
runs for all three. None has a fix: the safe forms (execFile with an argument list,
textContent) are not drop-in replacements.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from fixloop.analysis.findings import Finding, Group, Severity
from fixloop.analysis.rules import Match, Rule, register
from fixloop.analysis.safety._common import arguments, is_js_literal

JS_FAMILY = frozenset({"javascript", "typescript", "tsx"})


def _text(match: Match, capture: str, default: str) -> str:
    node = match.node(capture)
    return default if node is None else match.text(node)


def _first_argument_not_literal(match: Match) -> bool:
    args = match.node("args")
    given = arguments(args) if args is not None else []
    return bool(given) and not is_js_literal(given[0])


# --- FL201 eval -----------------------------------------------------------------------


def _check_eval(rule: Rule, match: Match) -> Iterable[Finding]:
    call = match.node("call")
    if call is None or not _first_argument_not_literal(match):
        return ()
    return (rule.finding(call, "`eval` runs code built at run time; never pass it input"),)


EVAL = Rule(
    code="FL201",
    name="js-eval",
    group=Group.SAFETY,
    severity=Severity.WARNING,
    languages=JS_FAMILY,
    query="""
((call_expression function: (identifier) @fn arguments: (arguments) @args) @call
 (#eq? @fn "eval"))
((call_expression
   function: (member_expression object: (identifier) @global property: (property_identifier) @fn)
   arguments: (arguments) @args) @call
 (#any-of? @global "window" "globalThis" "self" "global") (#eq? @fn "eval"))
""",
    check=_check_eval,
    explanation="eval runs whatever code it is given; with input from outside that is "
    "arbitrary code execution. Parse data with JSON.parse.",
)


# --- FL202 new Function ---------------------------------------------------------------


def _check_function(rule: Rule, match: Match) -> Iterable[Finding]:
    call, args = match.node("call"), match.node("args")
    if call is None or args is None:
        return ()
    if all(is_js_literal(argument) for argument in arguments(args)):
        return ()  # a constant body (`new Function("return this")`) injects nothing
    return (rule.finding(call, "`Function(…)` compiles code built at run time, like eval"),)


FUNCTION = Rule(
    code="FL202",
    name="js-new-function",
    group=Group.SAFETY,
    severity=Severity.WARNING,
    languages=JS_FAMILY,
    query="""
((new_expression constructor: (identifier) @fn arguments: (arguments) @args) @call
 (#eq? @fn "Function"))
((call_expression function: (identifier) @fn arguments: (arguments) @args) @call
 (#eq? @fn "Function"))
""",
    check=_check_function,
    explanation="The Function constructor compiles its string arguments into code, exactly "
    "like eval. Write the function in the source instead.",
)


# --- FL203 child_process.exec ---------------------------------------------------------


def _check_exec(rule: Rule, match: Match) -> Iterable[Finding]:
    call = match.node("call")
    if call is None or not _first_argument_not_literal(match):
        return ()
    name = _text(match, "fn", "exec")
    message = f"`{name}` runs a command built at run time through a shell"
    return (rule.finding(call, message),)


EXEC = Rule(
    code="FL203",
    name="js-child-process-exec",
    group=Group.SAFETY,
    severity=Severity.WARNING,
    languages=JS_FAMILY,
    # Bare `exec(…)` (destructured from child_process) and the usual module names; an
    # arbitrary `x.exec(s)` is far more often RegExp.prototype.exec.
    query="""
((call_expression function: (identifier) @fn arguments: (arguments) @args) @call
 (#any-of? @fn "exec" "execSync"))
((call_expression
   function: (member_expression object: (identifier) @module property: (property_identifier) @fn)
   arguments: (arguments) @args) @call
 (#any-of? @module "child_process" "childProcess" "cp" "child")
 (#any-of? @fn "exec" "execSync"))
((call_expression
   function: (member_expression
     object: (call_expression
       function: (identifier) @require arguments: (arguments (string) @module))
     property: (property_identifier) @fn)
   arguments: (arguments) @args) @call
 (#eq? @require "require") (#match? @module "^.(node:)?child_process.$")
 (#any-of? @fn "exec" "execSync"))
""",
    check=_check_exec,
    explanation="exec hands its command string to a shell; anything spliced into it can "
    "add commands of its own. Use execFile or spawn with an argument list.",
)


# --- FL204 HTML sinks -----------------------------------------------------------------


def _check_html(rule: Rule, match: Match) -> Iterable[Finding]:
    sink, value = match.node("sink"), match.node("value")
    if sink is None or value is None or is_js_literal(value):
        return ()
    name = _text(match, "prop", "HTML")
    message = f"`{name}` gets markup built at run time (cross-site scripting)"
    return (rule.finding(sink, message),)


HTML = Rule(
    code="FL204",
    name="js-html-injection",
    group=Group.SAFETY,
    severity=Severity.WARNING,
    languages=JS_FAMILY,
    query="""
([(assignment_expression
    left: (member_expression property: (property_identifier) @prop) right: (_) @value)
  (augmented_assignment_expression
    left: (member_expression property: (property_identifier) @prop) right: (_) @value)] @sink
 (#any-of? @prop "innerHTML" "outerHTML"))
((call_expression
   function: (member_expression property: (property_identifier) @prop)
   arguments: (arguments (_) (_) @value .)) @sink
 (#eq? @prop "insertAdjacentHTML"))
((call_expression
   function: (member_expression
     object: (identifier) @document property: (property_identifier) @prop)
   arguments: (arguments . (_) @value)) @sink
 (#eq? @document "document") (#any-of? @prop "write" "writeln"))
""",
    check=_check_html,
    explanation="Markup from outside written into the page runs its scripts. Set "
    "textContent, build elements with the DOM API, or sanitise the HTML first.",
)

# React's escape hatch: JSX exists in the JavaScript and TSX grammars, not in TypeScript's.
HTML_JSX = replace(
    HTML,
    languages=frozenset({"javascript", "tsx"}),
    query="""
((jsx_attribute
   (property_identifier) @prop
   (jsx_expression (object (pair key: (property_identifier) @key value: (_) @value)))) @sink
 (#eq? @prop "dangerouslySetInnerHTML") (#eq? @key "__html"))
""",
)

register(EVAL, FUNCTION, EXEC, HTML, HTML_JSX)
