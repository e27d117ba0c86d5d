import pytest

from clamping import clamp, clamp_all


def test_inside():
    assert clamp(5, 0, 10) == 5


def test_below():
    assert clamp(-3, 0, 10) == 0


def test_above():
    assert clamp(42, 0, 10) == 10


def test_all():
    assert clamp_all([-1, 5, 11], 0, 10) == [0, 5, 10]


def test_empty_interval():
    with pytest.raises(ValueError):
        clamp(1, 5, 0)


def test_scale():
    from clamping import scale

    assert scale(15, 10, 20) == 0.5
