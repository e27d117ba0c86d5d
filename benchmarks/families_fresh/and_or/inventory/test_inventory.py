from inventory import Item, to_remove, to_reorder


def stock():
    return [
        Item("a", 0, discontinued=True),
        Item("b", 3, discontinued=True),
        Item("c", 0),
        Item("d", 50),
    ]


def test_reorder():
    assert to_reorder(stock(), 5) == ["c"]


def test_remove():
    assert to_remove(stock()) == ["a"]


def test_remove_none():
    assert to_remove([Item("x", 4)]) == []
