"""`llm.review` reaches the editor's fix: the session the fix command builds asks the
user's model to review the verified patch before it is offered, as the CLI's does (it used
not to: the editor built its session without the reviewer)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.security.test_hostile_cli import FIX, USER_KEY_VARIABLE, users_config
from tests.support.examples import copy_of_shop
from tests.support.in_process import InProcessServer
from tests.support.scripted_openai import Reply, scripted_openai

pytestmark = pytest.mark.slow

PROJECT_SETTINGS = (
    "\n[tool.fixloop.llm]\nreview = true\n\n"
    '[tool.fixloop.tests]\nrun = "off"\n\n[tool.fixloop.memory]\nenabled = false\n\n'
    "[tool.fixloop.loop]\nmax-iterations = 1\n"  # one round: a rejected patch ends it
)


@pytest.mark.parametrize(
    ("verdict", "status"),
    # The client here applies no edit: a verified fix ends "not-applied".
    [("APPROVE: the discount starts at 10, as the tests say", "not-applied"),
     ("REJECT: the patch changes the boundary without a reason", "not-found")],
)  # fmt: skip
def test_the_editors_fix_asks_the_users_model_to_review_the_patch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, verdict: str, status: str
) -> None:
    shop = copy_of_shop(tmp_path)
    pyproject = shop / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8").replace(
        "[tool.fixloop]\n", '[tool.fixloop]\nengine = "llm"\n'
    )
    pyproject.write_text(text + PROJECT_SETTINGS, encoding="utf-8")
    uri = (shop / "pricing.py").as_uri()
    with scripted_openai([Reply(FIX), Reply(verdict)]) as model:
        users_config(tmp_path / "config", model.base_url)
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
        monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
        monkeypatch.setenv(USER_KEY_VARIABLE, "users-key")
        monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
        lsp = InProcessServer()
        try:
            lsp.initialize(shop, trusted=True, capabilities={})
            text = (shop / "pricing.py").read_text(encoding="utf-8")
            document = {"uri": uri, "languageId": "python", "version": 1, "text": text}
            lsp.notify("textDocument/didOpen", {"textDocument": document})
            command = {"command": "fixloop.fix", "arguments": [uri]}
            fix = lsp.send("workspace/executeCommand", command)
            answer = lsp.answer(fix, timeout=300)["result"]
            statuses = [m["params"] for m in lsp.seen if m["method"] == "fixloop/status"]
        finally:
            lsp.close()
    assert answer["status"] == status, answer
    # A model's rounds bound the session: the status bar counts them ("fixing 1/1").
    fixing = [s for s in statuses if s["state"] == "fixing"]
    assert fixing and all(s.get("maxIterations") == 1 for s in fixing if "iteration" in s)
    assert any(s.get("iteration") == 1 for s in fixing)
    # The fix's request, then the review of the verified patch with it.
    assert len(model.requests) >= 2
    assert "review" in model.prompts[1].lower() and "quantity >= 10" in model.prompts[1]
    if status == "not-found":
        assert "rejected in review" in str(answer)
