from cart import cart_total


def test_one_line():
    assert cart_total([{"price": 2.5, "quantity": 2}]) == 5.0


def test_many_lines():
    lines = [{"price": 1.0, "quantity": 3}, {"price": 4.0, "quantity": 1}]
    assert cart_total(lines) == 7.0


def test_empty():
    assert cart_total([]) == 0
