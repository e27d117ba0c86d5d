from record import personal_best


def test_fastest_lap():
    assert personal_best([61.2, 59.8, 60.5]) == 59.8


def test_single():
    assert personal_best([70.0]) == 70.0


def test_none():
    assert personal_best([]) is None
