from filenames import has_extension, stem


def test_has_extension():
    assert has_extension("photo.JPG", ["jpg", "png"])


def test_wrong_extension():
    assert not has_extension("notes.txt", ["jpg", "png"])


def test_dotfile():
    assert not has_extension(".jpgrc", ["jpg"])


def test_stem():
    assert stem("archive.tar.gz") == "archive.tar"
    assert stem(".bashrc") == ".bashrc"


def test_with_extension():
    from filenames import with_extension

    assert with_extension("a.txt", "md") == "a.md"
