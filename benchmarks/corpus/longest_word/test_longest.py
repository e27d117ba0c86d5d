from longest import longest


def test_longest():
    assert longest(["a", "abc", "ab"]) == "abc"


def test_first_of_ties():
    assert longest(["ab", "cd"]) == "ab"


def test_single():
    assert longest(["solo"]) == "solo"


def test_empty():
    assert longest([]) is None


def test_shortest():
    from longest import shortest

    assert shortest(["abc", "a", "ab"]) == "a"
