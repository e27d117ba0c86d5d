from paths import normalize


def test_plain():
    assert normalize("a/b") == "a/b"


def test_dots():
    assert normalize("a/./b/../c") == "a/c"


def test_slashes():
    assert normalize("/usr//lib/") == "/usr/lib"


def test_above_root():
    assert normalize("/../x") == "/x"


def test_empty():
    assert normalize("") == "."
