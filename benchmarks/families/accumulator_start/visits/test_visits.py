from visits import busiest, days_with_visits


def test_empty():
    assert days_with_visits([]) == 0


def test_repeats():
    log = [("mon", "/"), ("mon", "/a"), ("tue", "/"), ("fri", "/b")]
    assert days_with_visits(log) == 3


def test_busiest():
    assert busiest([("mon", "/"), ("tue", "/"), ("tue", "/x")]) == "tue"
