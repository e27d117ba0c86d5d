from parity import all_even, evens


def test_all_even():
    assert all_even([2, 4, 6])


def test_one_odd():
    assert not all_even([2, 3, 4])


def test_empty():
    assert all_even([])


def test_evens():
    assert evens([1, 2, 3, 4]) == [2, 4]


def test_split_parity():
    from parity import split_parity

    assert split_parity([1, 2, 3]) == ([2], [1, 3])
