import pytest

from upload import check_upload


def test_png():
    assert check_upload("cat.PNG", 2000) == ".png"


def test_exe_refused():
    with pytest.raises(ValueError):
        check_upload("setup.exe", 10)


def test_too_large():
    with pytest.raises(ValueError):
        check_upload("big.jpg", 5_000_000)
