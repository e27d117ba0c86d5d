"""Secrets never leave the machine: what the safety rules find in the sources, key-like
environment values and known token shapes anywhere are replaced before a prompt is sent."""

from __future__ import annotations

from fixloop.loop.llm.prompts import build_messages
from fixloop.loop.llm.redact import Redactor
from fixloop.loop.model import Failure, Location, RepairContext


def fake(*parts: str) -> str:
    """Secrets are assembled at run time so that this file holds none."""
    return "".join(parts)


AWS = fake("AKIA", "Z7VQWERTYU2OPASD")
GITHUB = fake("ghp_", "R4nd0mT0k3nV4lu3Xq9Lm2Pz8Wc5Ab7Yd1Kf3")
PASSWORD = fake("Vq7", "#pL2x!9Rk")
KEY_BODY = "\n".join(
    ["MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7" + str(i) for i in range(3)]
)
PRIVATE_KEY = f"-----BEGIN RSA PRIVATE KEY-----\n{KEY_BODY}\n-----END RSA PRIVATE KEY-----"

SOURCE = f'''\
import boto3

ACCESS_KEY = "{AWS}"
db_password = "{PASSWORD}"
PEM = """{PRIVATE_KEY}"""


def connect():
    return boto3.client("s3", aws_access_key_id=ACCESS_KEY)
'''


def test_rule_findings_are_replaced_by_their_code() -> None:
    redactor = Redactor.for_sources({"app.py": SOURCE}, environ={})
    text = redactor.redact(SOURCE)
    assert AWS not in text and PASSWORD not in text and "MIIEvQIBADAN" not in text
    assert '"<redacted:FL301>"' in text
    assert '"<redacted:FL304>"' in text
    assert "<redacted:FL302>" in text
    # Line numbers shown to the model stay true: a multi-line key keeps its lines.
    assert text.count("\n") == SOURCE.count("\n")
    assert text.splitlines()[-1] == SOURCE.splitlines()[-1]


def test_environment_values_that_look_like_keys() -> None:
    environ = {
        "MY_SERVICE_TOKEN": fake("t0k", "Xq9Lm2Pz8Wc5Ab7Y"),
        "PATH": "/usr/local/bin:/usr/bin",
        "HOME": "/home/someone",
        "LANG": "C.UTF-8",
    }
    redactor = Redactor.for_sources({}, environ=environ)
    text = redactor.redact(f"token={environ['MY_SERVICE_TOKEN']} path={environ['PATH']}")
    assert text == "token=<redacted:env> path=/usr/local/bin:/usr/bin"


def test_known_shapes_are_redacted_in_any_text() -> None:
    # A key quoted by pytest from a test file: not in the sources, still never sent.
    output = f"E   AssertionError: assert '{GITHUB}' == ''\n{PRIVATE_KEY}\nE   done"
    text = Redactor().redact(output)
    assert GITHUB not in text and "MIIEvQ" not in text
    assert "<redacted:FL303>" in text and "<redacted:FL302>" in text
    assert text.count("\n") == output.count("\n")


def test_a_pem_parser_constant_is_not_a_key() -> None:
    code = 'HEADER = "-----BEGIN PRIVATE KEY-----"\nrest = parse(data)\n'
    assert Redactor().redact(code) == code


def test_restore_gives_back_a_secret_a_search_text_quotes() -> None:
    redactor = Redactor.for_sources({"app.py": SOURCE}, environ={})
    line = f'ACCESS_KEY = "{AWS}"'
    assert redactor.restore(redactor.redact(line)) == line


def test_the_prompt_holds_no_secret() -> None:
    context = RepairContext(
        project_root=__import__("pathlib").Path("/project"),
        sources={"app.py": SOURCE},
        failures=(Failure("tests/test_app.py::test_connect", f"bad key {AWS}"),),
        locations=(Location("app.py", 13, 1.0),),
        test_output=f"E   botocore error for {AWS}\nsecret={PASSWORD}",
    )
    redactor = Redactor.for_sources(context.sources, environ={})
    messages = build_messages(context, redactor)
    sent = "\n".join(m["content"] for m in messages)
    for secret in (AWS, PASSWORD, "MIIEvQIBADAN"):
        assert secret not in sent
    # The numbered listing still numbers `def connect` as line 12 of the file.
    assert "  12 | def connect():" in sent
