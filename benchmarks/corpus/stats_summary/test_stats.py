from stats import summary


def test_integers():
    assert summary([1, 2, 3]) == {"mean": 2.0, "min": 1, "max": 3}


def test_rounding():
    assert summary([1, 2, 2])["mean"] == 1.67


def test_thirds():
    assert summary([0.1, 0.2, 0.25])["mean"] == 0.18


def test_empty():
    assert summary([]) is None
