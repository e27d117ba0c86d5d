from rectangle import Rectangle


def test_area():
    assert Rectangle(3, 4).area() == 12, "3 by 4 is 12"


def test_square():
    assert Rectangle(2, 2).is_square()
    assert Rectangle(2, 2).area() == 4
