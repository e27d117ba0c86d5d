import pytest

from pace import Run, fastest


@pytest.mark.parametrize(("km", "minutes", "kmh"), [(10, 60, 10), (5, 30, 10), (21, 90, 14)])
def test_speed(km, minutes, kmh):
    assert Run(km, minutes).speed() == pytest.approx(kmh)


def test_fastest():
    runs = [Run(10, 50), Run(10, 40), Run(3, 20)]
    assert fastest(runs) == Run(10, 40)
