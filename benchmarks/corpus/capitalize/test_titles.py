from titles import capitalize_words


def test_words():
    assert capitalize_words("hello world") == "Hello World"


def test_keeps_rest():
    assert capitalize_words("iPhone sales") == "IPhone Sales"


def test_spaces():
    assert capitalize_words("a  b") == "A  B"


def test_empty():
    assert capitalize_words("") == ""


def test_initials():
    from titles import initials

    assert initials("grace brewster hopper") == "GBH"
