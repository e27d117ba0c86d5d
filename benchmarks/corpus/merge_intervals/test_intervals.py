from intervals import merge


def test_overlapping():
    assert merge([(1, 3), (2, 6), (8, 10)]) == [(1, 6), (8, 10)]


def test_touching():
    assert merge([(1, 2), (2, 4)]) == [(1, 4)]


def test_unsorted():
    assert merge([(5, 6), (1, 2)]) == [(1, 2), (5, 6)]


def test_empty():
    assert merge([]) == []


def test_total_length():
    from intervals import total_length

    assert total_length([(1, 3), (2, 5), (10, 11)]) == 5
