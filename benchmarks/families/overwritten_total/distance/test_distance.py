from distance import route_length


def test_one_leg():
    assert route_length([(0, 0), (3, 4)]) == 5.0


def test_two_legs():
    assert route_length([(0, 0), (3, 4), (3, 10)]) == 11.0


def test_single_point():
    assert route_length([(1, 1)]) == 0.0
