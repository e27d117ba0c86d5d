from ledger import final_balance, running_totals


def test_totals():
    assert running_totals([5, -2, 10]) == [5, 3, 13]


def test_single():
    assert running_totals([4]) == [4]


def test_final():
    assert final_balance([1, 1, 1]) == 3


def test_empty():
    assert final_balance([]) == 0
