"""Safety rules (Bandit-style checks and secret scanning), registered on import.

Codes are stable: configuration, suppressions and memory refer to them.

===== ============================================================ ======== =====================
code  what                                                         severity quick fix
===== ============================================================ ======== =====================
FL101 eval / exec / compile on a non-literal (Python)              warning  -
FL102 subprocess run/call/Popen/check_* with shell=True;           warning  literal command, no
      subprocess.getoutput / getstatusoutput                                shell syntax: argument
                                                                            list, shell=True gone
FL103 os.system / os.popen                                         warning  -
FL104 pickle / cPickle / marshal / dill: load, loads, Unpickler    warning  -
FL105 tempfile.mktemp (and a bare mktemp)                          warning  - (mkstemp differs)
FL106 yaml.load / load_all / unsafe_load without a safe loader     warning  yaml.safe_load(_all),
                                                                            unsafe Loader= dropped
FL201 eval(non-literal), also window./globalThis.eval (JS/TS)      warning  -
FL202 new Function(...) / Function(...) with a non-literal arg     warning  -
FL203 child_process exec / execSync with a built command           warning  -
FL204 innerHTML / outerHTML (=, +=), insertAdjacentHTML,           warning  -
      document.write(ln), JSX dangerouslySetInnerHTML, non-literal
FL301 cloud access key: AWS AKIA/ASIA..., Google API key AIza...   error    -
FL302 private key block (BEGIN ... PRIVATE KEY + key data)         error    -
FL303 token with a known prefix: GitHub, Slack, Stripe, OpenAI,    error    -
      GitLab, npm, PyPI, Hugging Face, SendGrid, Google OAuth
FL304 high-entropy string given to a secret-sounding name          warning  -
      (variable, attribute, key, keyword argument, default, field)
===== ============================================================ ======== =====================

FL1xx apply to Python, FL2xx to JavaScript, TypeScript and TSX, FL3xx to all four (FL301 to
FL303 in strings and comments, FL304 in assignments). Every rule decides from the matched
nodes alone, so that it can run on the edited region only; imports are out of its sight.

What is deliberately not flagged (each has a test):

- code execution with a literal: `eval("1 + 1")`, `new Function("return this")`,
  `exec("ls")` in JS; `compile(pattern)` with fewer than three arguments (`re`'s);
  methods named eval (`model.eval()`, `df.eval(s)`); `regex.exec(s)` and `db.exec(sql)`.
- subprocess: `shell=False`, `shell=<variable>`, argument lists. Bare `run`, `call`,
  `Popen`, `check_call`, `check_output` with `shell=True` are flagged (a
  `from subprocess import run` is invisible locally; `shell=True` is the signal), and
  any object for them (`sp.run` after `import subprocess as sp`).
- `pickle.loads(x.dumps(...))`: a round trip of data made on the spot (a test idiom).
- `yaml.load(s, Loader=Loader)` with a bare `Loader` or another unknown loader name: it is
  often a local SafeLoader subclass; `yaml.Loader`, `FullLoader`, `UnsafeLoader` are unsafe.
- secrets: AWS's documentation key (`...EXAMPLE`), `ghp_xxxx...` stand-ins, tokens inside a
  longer word, Stripe `sk_test_` keys, PEM headers with no key data after them (a
  parser's constants), public keys and certificates; for FL304 empty, short, word-like
  (no digits), templated (`${X}`, `<token>`), placeholder (`changeme`, `your-key`,
  `example`), URL, path and e-mail values, values built at run time, and names that only
  describe a secret (`token_url`, `password_hash`, `secret_name`, `author`). A hex string
  under a secret-sounding name is judged like any token (flagged from 20 characters with
  enough entropy, so an MD5 under `token` is flagged, under `sha256` or `digest` not).
"""

from fixloop.analysis.safety import javascript_rules, python_rules, secrets

__all__ = ["javascript_rules", "python_rules", "secrets"]
