from ordering import unique_in_order


def test_repeats():
    assert unique_in_order([3, 1, 3, 2, 1]) == [3, 1, 2]


def test_strings():
    assert unique_in_order("abba") == ["a", "b"]


def test_empty():
    assert unique_in_order([]) == []


def test_duplicates():
    from ordering import duplicates

    assert duplicates([1, 2, 1, 1, 3, 2]) == [1, 2]
