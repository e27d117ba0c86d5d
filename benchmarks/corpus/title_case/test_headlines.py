from headlines import title_case


def test_small_words():
    assert title_case("the lord of the rings") == "The Lord of the Rings"


def test_first_small():
    assert title_case("a tale of two cities") == "A Tale of Two Cities"


def test_plain():
    assert title_case("hello WORLD") == "Hello World"


def test_empty():
    assert title_case("") == ""
