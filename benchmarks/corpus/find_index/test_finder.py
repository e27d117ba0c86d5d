from finder import contains, find_first


def test_first_match():
    assert find_first([1, 4, 6], lambda x: x % 2 == 0) == 1


def test_no_match():
    assert find_first([1, 3], lambda x: x > 5) == -1


def test_contains():
    assert contains([1, 2], lambda x: x == 2)


def test_not_contains():
    assert not contains([1, 2], lambda x: x == 3)
