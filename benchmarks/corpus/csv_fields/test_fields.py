from fields import split_fields


def test_plain():
    assert split_fields("a,b,c") == ["a", "b", "c"]


def test_quoted_comma():
    assert split_fields('x,"y,z",w') == ["x", "y,z", "w"]


def test_empty_fields():
    assert split_fields(",") == ["", ""]


def test_single():
    assert split_fields("solo") == ["solo"]
