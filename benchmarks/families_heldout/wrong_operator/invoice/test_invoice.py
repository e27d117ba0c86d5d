from invoice import invoice_total, line_total


def test_no_discount():
    assert line_total(2.5, 4) == 10.0


def test_discount_lowers_the_price():
    assert line_total(10.0, 3, discount=0.1) == 27.0


def test_invoice():
    assert invoice_total([(10.0, 1, 0.5), (1.0, 5)]) == 12.0
