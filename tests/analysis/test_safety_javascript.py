"""JavaScript/TypeScript safety rules FL201-FL204, in all three JS-family grammars."""

from __future__ import annotations

import pytest

from fixloop.analysis.findings import Group, Severity
from fixloop.analysis.rules import _compiled

JS_LANGUAGES = ["javascript", "typescript", "tsx"]

FLAGGED = [
    # FL201
    ("FL201", "eval(input);", "eval(input)"),
    ("FL201", "eval(`1 + ${x}`);", "eval(`1 + ${x}`)"),
    ("FL201", 'eval("1 + " + x);', 'eval("1 + " + x)'),
    ("FL201", "window.eval(code);", "window.eval(code)"),
    ("FL201", "globalThis.eval(code);", "globalThis.eval(code)"),
    # FL202
    ("FL202", "const f = new Function(body);", "new Function(body)"),
    ("FL202", 'const f = new Function("a", "b", body);', 'new Function("a", "b", body)'),
    ("FL202", "const f = Function(`return ${x}`);", "Function(`return ${x}`)"),
    # FL203
    ("FL203", "exec(`ls ${dir}`, cb);", "exec(`ls ${dir}`, cb)"),
    ("FL203", 'exec("rm -rf " + path);', 'exec("rm -rf " + path)'),
    ("FL203", "execSync(command);", "execSync(command)"),
    ("FL203", "cp.exec(`git log ${ref}`);", "cp.exec(`git log ${ref}`)"),
    ("FL203", "child_process.execSync(cmd);", "child_process.execSync(cmd)"),
    (
        "FL203",
        'require("child_process").exec(cmd);',
        'require("child_process").exec(cmd)',
    ),
    (
        "FL203",
        "require('node:child_process').execSync(`a ${b}`);",
        "require('node:child_process').execSync(`a ${b}`)",
    ),
    # FL204
    ("FL204", "el.innerHTML = html;", "el.innerHTML = html"),
    ("FL204", "el.outerHTML = `<b>${name}</b>`;", "el.outerHTML = `<b>${name}</b>`"),
    ("FL204", 'el.innerHTML = "<p>" + text + "</p>";', 'el.innerHTML = "<p>" + text + "</p>"'),
    ("FL204", "el.innerHTML += row;", "el.innerHTML += row"),
    ("FL204", "document.body.innerHTML = data.html;", "document.body.innerHTML = data.html"),
    (
        "FL204",
        'el.insertAdjacentHTML("beforeend", html);',
        'el.insertAdjacentHTML("beforeend", html)',
    ),
    ("FL204", "document.write(content);", "document.write(content)"),
    ("FL204", "document.writeln(`${x}`);", "document.writeln(`${x}`)"),
]

NOT_FLAGGED = [
    # FL201: a literal runs fixed code
    'eval("1 + 1");',
    "eval(`2 * 3`);",
    "model.eval(x);",
    "evaluate(x);",
    # FL202
    'const g = new Function("return this")();',
    'const f = new Function("a", "b", "return a + b");',
    "const s = new Set(items);",
    "function Function2(x) {}",
    # FL203: constant commands, RegExp.prototype.exec, execFile with an argument list
    'exec("ls -l", cb);',
    "execSync(`git status`);",
    "const m = pattern.exec(line);",
    "const m = /a(b)/.exec(s);",
    "while ((m = re.exec(text)) !== null) {}",
    "execFile('git', ['log', ref]);",
    "spawn('ls', [dir]);",
    "db.exec(sql);",
    # FL204
    'el.innerHTML = "";',
    "el.innerHTML = '<br>';",
    "el.innerHTML = `<p>static</p>`;",
    "el.textContent = html;",
    "el.innerText = html;",
    'el.insertAdjacentHTML("beforeend", "<hr>");',
    "el.insertAdjacentText('beforeend', text);",
    'document.write("<p>hi</p>");',
    "logger.write(content);",
    "const html = el.innerHTML;",
]


@pytest.mark.parametrize("language", JS_LANGUAGES)
@pytest.mark.parametrize(("code", "source", "underlined"), FLAGGED)
def test_flags(scan, text_of, language, code, source, underlined):
    findings = scan(source, language, codes="FL2")
    assert [(f.code, text_of(source, f)) for f in findings] == [(code, underlined)]
    finding = findings[0]
    assert finding.severity is Severity.WARNING
    assert finding.group is Group.SAFETY
    assert finding.fix is None
    assert finding.explanation


@pytest.mark.parametrize("language", JS_LANGUAGES)
@pytest.mark.parametrize("source", NOT_FLAGGED)
def test_does_not_flag(scan, language, source):
    assert scan(source, language, codes="FL2") == []


def test_every_rule_is_flagged_somewhere():
    assert {code for code, _, _ in FLAGGED} == {"FL201", "FL202", "FL203", "FL204"}


@pytest.mark.parametrize("language", JS_LANGUAGES)
def test_queries_compile_for_each_grammar(language):
    compiled = _compiled(language)
    assert compiled is not None
    codes = {rule.code for rule in compiled.rules}
    assert {"FL201", "FL202", "FL203", "FL204", "FL301", "FL304"} <= codes


def test_typescript_syntax_around_the_sinks(scan, text_of):
    source = """
const el = document.getElementById("out") as HTMLElement;
(el as HTMLDivElement).innerHTML = render<string>(data);
el!.outerHTML = html as string;
function run(cmd: string): void { execSync(`sh -c ${cmd}`); }
"""
    findings = scan(source, "typescript", codes="FL2")
    assert [f.code for f in findings] == ["FL204", "FL204", "FL203"]


def test_tsx_component(scan):
    source = """
export function View({ html }: { html: string }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => { ref.current!.innerHTML = html; });
  return <div ref={ref} />;
}
"""
    assert [f.code for f in scan(source, "tsx", codes="FL2")] == ["FL204"]


@pytest.mark.parametrize("language", ["javascript", "tsx"])
def test_dangerously_set_inner_html(scan, text_of, language):
    source = "const v = <div dangerouslySetInnerHTML={{ __html: post.body }} />;"
    findings = scan(source, language, codes="FL2")
    assert [(f.code, text_of(source, f)) for f in findings] == [
        ("FL204", "dangerouslySetInnerHTML={{ __html: post.body }}")
    ]
    assert "dangerouslySetInnerHTML" in findings[0].message
    constant = 'const v = <div dangerouslySetInnerHTML={{ __html: "<br/>" }} />;'
    assert scan(constant, language, codes="FL2") == []


# The token is assembled so that this file does not look like it holds one.
LOCALITY_SAMPLE = """const { exec } = require("child_process");
function render(el, html, cmd) {
  el.innerHTML = html; // TOKEN
  exec(`ls ${cmd}`);
  const apiKey = "Zx8Kq2LmP9vR4tWy7NbQ";
  return eval(html) + new Function(cmd);
}
""".replace("TOKEN", "ghp_" + "16C7e42F292c6912E7710c838347Ae178B4a")


@pytest.mark.parametrize("language", JS_LANGUAGES)
def test_rules_are_local(language):
    """A run over any window finds exactly the full run's findings the window intersects."""
    from fixloop.analysis.languages import LANGUAGES
    from fixloop.analysis.rules import run_rules
    from fixloop.analysis.source import Span

    data = LOCALITY_SAMPLE.encode()
    spec = next(spec for spec in LANGUAGES if spec.name == language)
    tree = spec.parser().parse(data)
    full = {(f.code, f.span) for f in run_rules(tree, data, language)}
    assert {code for code, _ in full} == {"FL201", "FL202", "FL203", "FL204", "FL303", "FL304"}
    for start in range(0, len(data), 7):
        for end in range(start + 1, len(data) + 1, 11):
            found = {(f.code, f.span) for f in run_rules(tree, data, language, Span(start, end))}
            assert found <= full
            assert {(c, s) for c, s in full if s.start < end and start < s.end} <= found
