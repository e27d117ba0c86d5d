from linked import from_list, reverse, to_list


def test_round_trip():
    assert to_list(from_list([1, 2, 3])) == [1, 2, 3]


def test_reverse():
    assert to_list(reverse(from_list([1, 2, 3]))) == [3, 2, 1]


def test_reverse_single():
    assert to_list(reverse(from_list([9]))) == [9]


def test_reverse_empty():
    assert reverse(None) is None
