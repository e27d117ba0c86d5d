from timesheet import hours_worked


def test_single():
    assert hours_worked([("ann", 3)]) == {"ann": 3}


def test_summed():
    assert hours_worked([("ann", 3), ("bob", 1), ("ann", 2)]) == {"ann": 5, "bob": 1}


def test_none():
    assert hours_worked([]) == {}
