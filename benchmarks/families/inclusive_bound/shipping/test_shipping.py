from shipping import invoice_total, shipping_cost


def test_small_order():
    assert shipping_cost(20.0, 2) == 7.0


def test_exactly_free():
    assert shipping_cost(50.0, 3) == 0.0


def test_big_order():
    assert shipping_cost(80.0, 10) == 0.0


def test_invoice():
    assert invoice_total(50.0, 1) == 50.0
