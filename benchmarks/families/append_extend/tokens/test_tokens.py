from tokens import tokenize, vocabulary


def test_tokenize():
    assert tokenize(["The cat", "sat"]) == ["the", "cat", "sat"]


def test_vocabulary():
    assert vocabulary(["b a", "A c"]) == ["a", "b", "c"]


def test_blank():
    assert tokenize(["", "  "]) == []
