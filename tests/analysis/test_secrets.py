"""Secret rules FL301-FL304 in Python, JavaScript, TypeScript and TSX.

The fake credentials are assembled at run time so that this file does not itself look
like it holds any (to fixloop, to GitHub push protection, to other scanners).
"""

from __future__ import annotations

import pytest

from fixloop.analysis.findings import Group, Severity
from fixloop.analysis.safety.secrets import is_secret_name, looks_random, shannon_entropy

ALL_LANGUAGES = ["python", "javascript", "typescript", "tsx"]
JS_LANGUAGES = ["javascript", "typescript", "tsx"]


def fake(prefix: str, body: str) -> str:
    return prefix + body


AWS = fake("AKIA", "Z7VQWERTYU2OPASD")
AWS_TEMPORARY = fake("ASIA", "Q4RT7YUIOP3ASDFG")
AWS_DOCS = fake("AKIA", "IOSFODNN7EXAMPLE")  # the key of AWS's documentation
GOOGLE = fake("AIza", "SyD3x9Kq2LmP9vR4tWy7NbQzX8cVb1nM5tK")
GITHUB = fake("ghp_", "16C7e42F292c6912E7710c838347Ae178B4a")
GITHUB_FINE = fake("github_pat_", "11ABCDEFG0123456789_abcdefghijKLMNOPQRSTuvwxyz0123456789")
SLACK = fake("xoxb-", "2481632641-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx")
STRIPE = fake("sk_live_", "4eC39HqLyjWDarjtT1zdp7dc")
OPENAI = fake("sk-proj-", "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0f")
GITLAB = fake("glpat-", "x9Yz8Wv7Ut6Sr5Qp4On3")
NPM = fake("npm_", "aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6")
HUGGING_FACE = fake("hf_", "AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh")
KEY_BODY = "MIIEpAIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgwMcHvlbE2bGVn"
BEGIN, END = "-----BEGIN RSA PRIVATE KEY-----", "-----END RSA PRIVATE KEY-----"


def string_in(language: str, value: str) -> str:
    """`value` as a string literal assigned to a neutral name."""
    if language == "python":
        return f'value = "{value}"\n'
    return f'const value = "{value}";\n'


def comment_in(language: str, text: str) -> str:
    return f"# {text}\n" if language == "python" else f"// {text}\n"


# --- FL301 to FL303: known shapes, in strings and comments --------------------------

KNOWN = [
    ("FL301", AWS, "AWS access key"),
    ("FL301", AWS_TEMPORARY, "AWS temporary access key"),
    ("FL301", GOOGLE, "Google API key"),
    ("FL303", GITHUB, "GitHub token"),
    ("FL303", GITHUB_FINE, "GitHub token"),
    ("FL303", SLACK, "Slack token"),
    ("FL303", STRIPE, "Stripe secret key"),
    ("FL303", OPENAI, "OpenAI-style"),
    ("FL303", GITLAB, "GitLab token"),
    ("FL303", NPM, "npm token"),
    ("FL303", HUGGING_FACE, "Hugging Face token"),
]


@pytest.mark.parametrize("language", ALL_LANGUAGES)
@pytest.mark.parametrize(("code", "token", "provider"), KNOWN)
def test_known_token_in_a_string(scan, text_of, language, code, token, provider):
    source = string_in(language, token)
    findings = scan(source, language, codes="FL30")
    assert [(f.code, text_of(source, f)) for f in findings] == [(code, token)]
    finding = findings[0]
    assert finding.severity is Severity.ERROR
    assert finding.group is Group.SECRETS
    assert provider in finding.message
    assert token not in finding.message  # never print the secret
    assert f"{token[:4]}…" in finding.message


@pytest.mark.parametrize("language", ALL_LANGUAGES)
@pytest.mark.parametrize(("code", "token"), [("FL301", AWS), ("FL303", GITHUB)])
def test_known_token_in_a_comment(scan, text_of, language, code, token):
    source = comment_in(language, f"deploy with {token} (temporary)")
    findings = scan(source, language, codes="FL30")
    assert [(f.code, text_of(source, f)) for f in findings] == [(code, token)]


@pytest.mark.parametrize("language", JS_LANGUAGES)
def test_known_token_in_a_template_string(scan, text_of, language):
    source = f"const headers = {{ Authorization: `token {GITHUB}` }};\n"
    findings = scan(source, language, codes="FL30")
    assert [(f.code, text_of(source, f)) for f in findings] == [("FL303", GITHUB)]


def test_known_token_in_an_f_string(scan, text_of):
    source = f'url = f"https://{{host}}/api?key={GOOGLE}"\n'
    findings = scan(source, codes="FL30")
    assert [(f.code, text_of(source, f)) for f in findings] == [("FL301", GOOGLE)]


def test_two_tokens_in_one_comment(scan):
    source = comment_in("python", f"old: {AWS} new: {GITHUB}")
    assert [f.code for f in scan(source, codes="FL30")] == ["FL301", "FL303"]


NOT_KNOWN = [
    AWS_DOCS,  # documentation example
    fake("ghp_", "x" * 36),  # placeholder
    fake("AKIA", "XXXXXXXXXXXXXXXX"),
    "X" + AWS,  # inside a longer word: a hash, base64 data
    AWS + "Q",
    fake("sk-", "learn-is-a-python-library-for-machine-learning"),  # no digits: words
    "task-1234567890abcdef1234567890abcdef1234",  # `sk-` inside a word
    fake("ghp_", "short123"),
    fake("xoxb-", "123"),
    "sk_test_4eC39HqLyjWDarjtT1zdp7dc",  # Stripe test keys are published for tests
]


@pytest.mark.parametrize("language", ["python", "javascript"])
@pytest.mark.parametrize("value", NOT_KNOWN)
def test_not_a_known_token(scan, language, value):
    assert scan(string_in(language, value), language, codes="FL30") == []


@pytest.mark.parametrize("language", ALL_LANGUAGES)
def test_token_outside_strings_and_comments_is_not_scanned(scan, language):
    # Only strings and comments hold secrets; an identifier with that shape is code.
    source = f"{AWS} = 1\n" if language == "python" else f"const {AWS} = 1;\n"
    assert scan(source, language, codes="FL30") == []


# --- FL302 private keys -------------------------------------------------------------


def test_private_key_in_a_python_string(scan, text_of):
    block = f"{BEGIN}\n{KEY_BODY}\n{KEY_BODY}\n{END}"
    source = f'KEY = """{block}"""\n'
    (finding,) = scan(source, codes="FL30")
    assert finding.code == "FL302"
    assert finding.severity is Severity.ERROR
    assert text_of(source, finding) == block  # the whole block, BEGIN to END
    assert KEY_BODY[:10] not in finding.message
    assert "RSA PRIVATE KEY" in finding.message


@pytest.mark.parametrize("language", JS_LANGUAGES)
def test_private_key_with_escaped_newlines(scan, text_of, language):
    block = f"{BEGIN}\\n{KEY_BODY}\\n{END}"
    source = f'const key = "{block}";\n'
    (finding,) = scan(source, language, codes="FL30")
    assert finding.code == "FL302"
    assert text_of(source, finding).startswith(BEGIN)


@pytest.mark.parametrize("language", JS_LANGUAGES)
def test_private_key_in_a_template_literal(scan, language):
    source = f"const key = `-----BEGIN OPENSSH PRIVATE KEY-----\n{KEY_BODY}\n`;\n"
    assert [f.code for f in scan(source, language, codes="FL30")] == ["FL302"]


@pytest.mark.parametrize(
    "source",
    [
        # a PEM parser's constants, and documentation: no key material follows
        'PEM_HEADER = "-----BEGIN PRIVATE KEY-----"\n',
        'if data.startswith(b"-----BEGIN RSA PRIVATE KEY-----"):\n    pass\n',
        "# expects a -----BEGIN EC PRIVATE KEY----- block in $KEY_FILE\n",
        f'PUBLIC = """-----BEGIN PUBLIC KEY-----\n{KEY_BODY}\n-----END PUBLIC KEY-----"""\n',
        f'CERT = "-----BEGIN CERTIFICATE-----\\n{KEY_BODY}"\n',
    ],
)
def test_not_a_private_key(scan, source):
    assert scan(source, codes="FL30") == []


def test_private_key_scan_does_not_backtrack(scan):
    # `Name: value` header lines once made the key-data regex exponential on such text.
    source = f'x = """{BEGIN}\n{"a: " * 400}!"""\n'
    assert scan(source, codes="FL30") == []


def test_encrypted_private_key_with_headers(scan):
    headers = "Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,3F17F5316E2BAC89\n\n"
    source = f'KEY = """{BEGIN}\n{headers}{KEY_BODY}\n{END}"""\n'
    assert [f.code for f in scan(source, codes="FL30")] == ["FL302"]


# --- FL304 high-entropy values of secret-sounding names ---------------------------

PASSWORD = "S3cr3t" + "P@ss!"  # short, but three kinds of characters
RANDOM = "Zx8Kq2LmP9vR4tWy7NbQ"
HEX_TOKEN = "9f8e7d6c5b4a3928" + "1716f0e1d2c3b4a5"

PY_ASSIGNED = [
    f'password = "{PASSWORD}"',
    f'DB_PASSWORD = "{RANDOM}"',
    f'self.api_key = "{RANDOM}"',
    f'settings.SECRET_KEY = "{RANDOM}"',
    f'config["client_secret"] = "{RANDOM}"',
    f'connect(host, password="{PASSWORD}")',
    f'def login(user, token="{RANDOM}"):\n    pass',
    f'def login(user, token: str = "{RANDOM}"):\n    pass',
    f'auth_token: str = "{RANDOM}"',
    f'CONFIG = {{"apiKey": "{RANDOM}"}}',
    f'headers = {{"Authorization": "Bearer {RANDOM}"}}',
    f'accessKey = "{RANDOM}"',
    f'token = "{HEX_TOKEN}"',  # hex tokens are tokens too (see test_hex_hashes)
]


@pytest.mark.parametrize("source", PY_ASSIGNED)
def test_python_secret_assigned(scan, text_of, source):
    findings = scan(source, codes="FL304")
    assert [f.code for f in findings] == ["FL304"]
    finding = findings[0]
    assert finding.severity is Severity.WARNING
    assert finding.group is Group.SECRETS
    assert text_of(source, finding).strip("\"'") in (
        PASSWORD,
        RANDOM,
        HEX_TOKEN,
        f"Bearer {RANDOM}",
    )
    for secret in (PASSWORD, RANDOM, HEX_TOKEN):
        assert secret not in finding.message


JS_ASSIGNED = [
    f'const apiKey = "{RANDOM}";',
    f"let password = '{PASSWORD}';",
    f"const token = `{RANDOM}`;",
    f'config.clientSecret = "{RANDOM}";',
    f'process.env["API_KEY"] = "{RANDOM}";',
    f'const options = {{ auth_token: "{RANDOM}" }};',
    f'const options = {{ "x-api-key": "{RANDOM}" }};',
    f'function login(user, password = "{PASSWORD}") {{}}',
    f'function login({{ token = "{RANDOM}" }}) {{}}',
]
JS_CLASS_FIELD = f'class Client {{ secret = "{RANDOM}"; }}'
TS_ONLY = [
    f'class Client {{ private readonly apiKey: string = "{RANDOM}"; }}',
    f'function login(user: string, password: string = "{PASSWORD}") {{}}',
    f'const token: string = "{RANDOM}";',
]
JSX = f'const el = <Map apiKey="{RANDOM}" />;'


@pytest.mark.parametrize("language", JS_LANGUAGES)
@pytest.mark.parametrize("source", [*JS_ASSIGNED, JS_CLASS_FIELD])
def test_js_secret_assigned(scan, language, source):
    assert [f.code for f in scan(source, language, codes="FL304")] == ["FL304"]


@pytest.mark.parametrize("language", ["typescript", "tsx"])
@pytest.mark.parametrize("source", TS_ONLY)
def test_ts_secret_assigned(scan, language, source):
    assert [f.code for f in scan(source, language, codes="FL304")] == ["FL304"]


@pytest.mark.parametrize("language", ["javascript", "tsx"])
def test_jsx_attribute(scan, language):
    assert [f.code for f in scan(JSX, language, codes="FL304")] == ["FL304"]


PY_NOT_SECRET = [
    'password = ""',
    'password = os.environ["DB_PASSWORD"]',
    'password = os.getenv("DB_PASSWORD", "")',
    'password = "changeme"',  # placeholder, low entropy
    'password = "hunter2"',  # too short to tell from a word
    'password = "password"',
    'password = "${DB_PASSWORD}"',
    'token = "<your-token-here>"',
    'api_key = "YOUR_API_KEY_HERE"',
    'api_key = "your-api-key-1234567890"',
    'secret = "xxxxxxxxxxxxxxxxxxxx"',
    'token = "test-token-1234567890abc"',
    'api_key = "example-key-1234567890abcdef"',
    'token_url = "https://oauth2.googleapis.com/token"',
    'TOKEN_TYPE = "bearer"',
    'TOKEN_EXPIRED = "TOKEN_EXPIRED_ERROR"',
    'token_header = "X-Auth-Token-Header-Name"',
    'SECRET_NAME = "prod/db-credentials-4f9a"',
    f'password_hash = "{HEX_TOKEN}"',
    f'expected_sha256 = "{HEX_TOKEN}{HEX_TOKEN}"',
    'PASSWORD_PATTERN = r"^(?=.*[A-Z])(?=.*\\d)[A-Za-z\\d@$!%*?&]{8,64}$"',
    'author = "Jane Doe"',
    'tokenizer = "bert-base-uncased"',
    'key = "Zx8Kq2LmP9vR4tWy7NbQ"',  # `key` alone is too common (dict keys, cache keys)
    'cache_key = "user:1234:profile:5f4dcc3b5aa765d61d8327deb882cf99"',
    f'token = f"{{prefix}}{RANDOM}"',  # built at run time
    "password = get_password()",
    'secret_file = "/etc/app/secret-9f8e7d6c5b.key"',
    'admin_email_password_reset_subject = "Reset your password"',
    'value = "Zx8Kq2LmP9vR4tWy7NbQ"',  # high entropy but a neutral name: not FL304
    'secret = "deadbeefdeadbeefdeadbeef"',  # hex, but repetitive
    'WAIT_FOR_TASK_TOKEN = "waitForTaskToken"',  # camelCase words: no digits
    'auth_flag = "requireAuthorizationForCacheControl"',
]


@pytest.mark.parametrize("source", PY_NOT_SECRET)
def test_python_not_a_secret(scan, source):
    assert scan(source, codes="FL3") == []


@pytest.mark.parametrize("language", JS_LANGUAGES)
@pytest.mark.parametrize(
    "source",
    [
        'const password = "";',
        "const password = process.env.DB_PASSWORD;",
        'const apiKey = "YOUR_API_KEY";',
        'const TOKEN_KEY = "auth-token";',
        "const token = `${prefix}Zx8Kq2LmP9vR4tWy7NbQ`;",
        'const tokenUrl = "https://example.org/oauth/token";',
        'const authorName = "Zx8Kq2LmP9vR4tWy7NbQ";',
    ],
)
def test_js_not_a_secret(scan, language, source):
    assert scan(source, language, codes="FL3") == []


@pytest.mark.parametrize("language", ALL_LANGUAGES)
def test_known_token_is_not_reported_twice(scan, language):
    source = f'token = "{GITHUB}"\n' if language == "python" else f'const token = "{GITHUB}";\n'
    assert [f.code for f in scan(source, language, codes="FL3")] == ["FL303"]


def test_hex_hashes():
    # Decision: a hex string is judged by the name it is given. Under a secret-sounding
    # name a 32-character hex value is flagged (many API tokens are hex); digests under
    # names such as `sha256`, `digest` or `password_hash` are not, and short or repetitive
    # hex (`deadbeef…`) is not random enough.
    assert looks_random(HEX_TOKEN)
    assert not looks_random("deadbeefdeadbeefdeadbeef")
    assert not looks_random("0123abcd")
    assert not is_secret_name("password_hash")
    assert not is_secret_name("expected_sha256")


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("password", True),
        ("DB_PASSWORD", True),
        ("dbPassword", True),
        ("PassWord", True),
        ("apiKey", True),
        ("API_KEY", True),
        ("APIKEY", True),
        ("x-api-key", True),
        ("aws_secret_access_key", True),
        ("accessKey", True),
        ("private_key", True),
        ("clientSecret", True),
        ("auth", True),
        ("Authorization", True),
        ("githubToken", True),
        ("credentials", True),
        ("key", False),
        ("cache_key", False),
        ("primary_key", False),
        ("author", False),
        ("tokenizer", False),
        ("token_url", False),
        ("password_hash", False),
        ("secret_name", False),
        ("max_tokens_count", False),
        ("passage", False),
    ],
)
def test_secret_names(name, secret):
    assert is_secret_name(name) is secret


def test_entropy():
    assert shannon_entropy("") == 0.0
    assert shannon_entropy("aaaa") == 0.0
    assert shannon_entropy("abcd") == pytest.approx(2.0)
    assert shannon_entropy(RANDOM) > 3.5


def test_runs_on_a_window_only():
    from fixloop.analysis.languages import language_for
    from fixloop.analysis.rules import run_rules
    from fixloop.analysis.source import Span

    source = f'a = "{AWS}"\nb = 1\nc = "{GITHUB}"\n'.encode()
    tree = language_for(language_id="python").parser().parse(source)
    third = source.index(b"c = ")
    findings = run_rules(tree, source, "python", window=Span(third, len(source)))
    assert [f.code for f in findings] == ["FL303"]
