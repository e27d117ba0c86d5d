from wordcount import count_long_words, longest


def test_none_long():
    assert count_long_words("a bb cc", 5) == 0


def test_some_long():
    assert count_long_words("the quick brown fox, jumping!", 5) == 3


def test_longest():
    assert longest("a bbb cc") == "bbb"
