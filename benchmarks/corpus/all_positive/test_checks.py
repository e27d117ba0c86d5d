from checks import all_positive, count_positive


def test_all_positive():
    assert all_positive([1, 2, 3]) is True


def test_late_negative():
    assert all_positive([1, 2, -3]) is False


def test_first_negative():
    assert all_positive([-1, 2]) is False


def test_empty():
    assert all_positive([]) is True


def test_count():
    assert count_positive([1, -1, 2]) == 2


def test_first_negative():
    from checks import first_negative

    assert first_negative([3, -1, -2]) == -1
