from sentences import sentence


def test_one_word():
    assert sentence(["hello"]) == "Hello."


def test_words():
    assert sentence(["the", "cat", "sat"]) == "The cat sat."


def test_strips():
    assert sentence([" a ", "b"]) == "A b."


def test_empty():
    assert sentence([]) == ""


def test_word_count():
    from sentences import first_word, word_count

    assert word_count("a b c") == 3
    assert first_word("hi there") == "hi"
