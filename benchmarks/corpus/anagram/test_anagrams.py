from anagrams import anagrams_of, is_anagram


def test_anagram():
    assert is_anagram("listen", "silent")


def test_spaces_case():
    assert is_anagram("Dormitory", "dirty room")


def test_not_anagram():
    assert not is_anagram("abc", "abd")


def test_anagrams_of():
    assert anagrams_of("rat", ["tar", "art", "rat", "car"]) == ["tar", "art"]


def test_letter_counts():
    from anagrams import letter_counts

    assert letter_counts("Aba!") == {"a": 2, "b": 1}
