from pages import page, page_count


def test_first_page():
    assert page(list(range(10)), 1, 3) == [0, 1, 2]


def test_last_page():
    assert page(list(range(10)), 4, 3) == [9]


def test_count():
    assert page_count(list(range(10)), 3) == 4
