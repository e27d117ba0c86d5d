from pricing import bulk_discount, total


def test_no_discount_for_a_few_items():
    assert bulk_discount(3) == 0.0


def test_discount_starts_at_ten_items():
    assert bulk_discount(10) == 0.10


def test_total():
    assert total({"pen": 2.0}, {"pen": 10}) == 18.0
