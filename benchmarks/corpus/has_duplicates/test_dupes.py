from dupes import first_duplicate, has_duplicates


def test_duplicate():
    assert has_duplicates([1, 2, 1])


def test_no_duplicate():
    assert not has_duplicates([1, 2, 3])


def test_empty():
    assert not has_duplicates([])


def test_first_duplicate():
    assert first_duplicate(["a", "b", "b", "a"]) == "b"
