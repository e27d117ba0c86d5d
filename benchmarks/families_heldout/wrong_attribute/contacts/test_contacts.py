import pytest

from contacts import Contact, directory


@pytest.fixture
def people():
    return [Contact("Zoe", "Adams", "z@x.org"), Contact("Adam", "Young", "a@x.org")]


def test_sorted_by_family_name(people):
    assert directory(people) == ["Adams, Zoe <z@x.org>", "Young, Adam <a@x.org>"]


def test_empty():
    assert directory([]) == []
