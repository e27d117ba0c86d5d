from temperature import clamp, safe_setpoint


def test_in_range():
    assert safe_setpoint(21.0) == 21.0


def test_too_cold():
    assert safe_setpoint(-3.0) == 5.0


def test_too_hot():
    assert safe_setpoint(45.0) == 30.0


def test_clamp():
    assert clamp(7, 0, 5) == 5
