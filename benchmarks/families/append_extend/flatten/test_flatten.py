from flatten import flatten, unique_members


def test_flatten():
    assert flatten([[1, 2], [3], []]) == [1, 2, 3]


def test_unique():
    assert unique_members({"a": ["x", "y"], "b": ["y", "z"]}) == ["x", "y", "z"]


def test_empty():
    assert flatten([]) == []
