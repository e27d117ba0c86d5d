from search import contains_word


def test_present():
    assert contains_word("The cat sat.", "cat")


def test_absent():
    assert not contains_word("Concatenate the strings", "cat"), "a part of a word is no match"


def test_case():
    assert contains_word("Stop!", "STOP")
