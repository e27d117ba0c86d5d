from cipher import decrypt, encrypt


def test_encrypt():
    assert encrypt("abc", 1) == "bcd"


def test_wraps():
    assert encrypt("xyz", 3) == "abc"


def test_keeps_case_and_punctuation():
    assert encrypt("Hi, Bob!", 2) == "Jk, Dqd!"


def test_round_trip():
    assert decrypt(encrypt("Secret Message", 7), 7) == "Secret Message"
