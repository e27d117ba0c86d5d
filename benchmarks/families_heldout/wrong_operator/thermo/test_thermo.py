from thermo import describe, to_celsius


def test_boiling():
    assert to_celsius(212) == 100.0, "water boils at 100 C"


def test_body():
    assert to_celsius(98.6) == 37.0


def test_describe():
    assert describe(14) == "freezing"
