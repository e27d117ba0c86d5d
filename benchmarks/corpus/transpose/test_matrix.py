from matrix import is_symmetric, transpose


def test_square():
    assert transpose([[1, 2], [3, 4]]) == [[1, 3], [2, 4]]


def test_rectangular():
    assert transpose([[1, 2, 3], [4, 5, 6]]) == [[1, 4], [2, 5], [3, 6]]


def test_empty():
    assert transpose([]) == []


def test_symmetric():
    assert is_symmetric([[1, 7], [7, 2]])
    assert not is_symmetric([[1, 2], [3, 4]])
