from stock import needs_reorder, reorder_list


def test_below_level():
    assert needs_reorder("bolts", 3, 10)


def test_at_level():
    assert needs_reorder("nuts", 10, 10)


def test_above_level():
    assert not needs_reorder("screws", 11, 10)


def test_list():
    assert reorder_list({"a": 5, "b": 2, "c": 4}, {"a": 5, "b": 9, "c": 1}) == ["a", "c"]
