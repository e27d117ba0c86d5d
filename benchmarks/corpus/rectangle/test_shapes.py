from shapes import Rectangle


def test_area():
    assert Rectangle(3, 4).area() == 12


def test_square_area():
    assert Rectangle(5, 5).area() == 25


def test_perimeter():
    assert Rectangle(3, 4).perimeter() == 14


def test_is_square():
    assert Rectangle(2, 2).is_square()
    assert not Rectangle(2, 3).is_square()
