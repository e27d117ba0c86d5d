from checksum import luhn_valid


def test_valid_card():
    assert luhn_valid("4539 3195 0343 6467"), "a known valid number"


def test_invalid_card():
    assert not luhn_valid("8273 1232 7352 0569")


def test_short():
    assert luhn_valid("18")
