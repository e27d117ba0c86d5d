from path import Node


def tree():
    root = Node("home")
    user = Node("ann", root)
    return Node("notes.txt", user)


def test_path():
    assert tree().path() == "home/ann/notes.txt"


def test_root():
    assert Node("home").path() == "home"


def test_depth():
    assert tree().depth() == 2
