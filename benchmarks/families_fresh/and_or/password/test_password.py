from password import acceptable, strength


def test_strong():
    assert strength("CorrectHorse42") == 3


def test_lowercase_only():
    assert strength("abc") == 0


def test_long_lowercase_with_digit():
    assert strength("longpassword7") == 2


def test_acceptable():
    assert not acceptable("short1")
    assert acceptable("Mixed!")
