from prefixes import strip_prefix, strip_prefixes


def test_strip():
    assert strip_prefix("unhappy", "un") == "happy"


def test_no_prefix():
    assert strip_prefix("happy", "un") == "happy"


def test_empty_prefix():
    assert strip_prefix("abc", "") == "abc"


def test_lines():
    assert strip_prefixes(["# a", "b"], "# ") == ["a", "b"]


def test_strip_suffix():
    from prefixes import strip_suffix

    assert strip_suffix("file.txt", ".txt") == "file"
