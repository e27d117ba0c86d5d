from palindromes import is_palindrome, normalized


def test_normalized():
    assert normalized("A man, a plan") == "amanaplan"


def test_simple():
    assert is_palindrome("racecar")


def test_sentence():
    assert is_palindrome("A man, a plan, a canal: Panama")


def test_not_palindrome():
    assert not is_palindrome("hello, world")


def test_longest_palindrome_word():
    from palindromes import longest_palindrome_word

    assert longest_palindrome_word("wow a level deed") == "level"
