from geometry import heading, headings


def test_north():
    assert heading(0, 1) == 0.0


def test_east():
    assert heading(1, 0) == 90.0


def test_many():
    assert headings([(0, -1), (-1, 0)]) == [180.0, 270.0]
