from words import most_common, word_counts


def test_single():
    assert word_counts("hello") == {"hello": 1}


def test_repeated():
    assert word_counts("a b a") == {"a": 2, "b": 1}


def test_case_and_punctuation():
    assert word_counts("Hi, hi! HI.") == {"hi": 3}


def test_most_common():
    assert most_common("x y y z") == "y"


def test_empty():
    assert word_counts("") == {}
