from slug import slugify, unique_slug


def test_slug():
    assert slugify("Hello, World 2024!") == "hello-world-2024"


def test_unique():
    assert unique_slug("My Post", {"my-post"}) == "my-post-2"


def test_single_word():
    assert slugify("Python") == "python"
