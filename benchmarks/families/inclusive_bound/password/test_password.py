from password import is_strong, problems


def test_short():
    assert problems("ab1") == ["too short"]


def test_exactly_eight():
    assert is_strong("abcdefg1")


def test_no_digit():
    assert problems("abcdefghij") == ["no digit"]


def test_long():
    assert is_strong("correct-horse-9")
