from timecode import duration, to_seconds


def test_minutes():
    assert to_seconds("02:30") == 150


def test_hours():
    assert to_seconds("1:00:05") == 3605


def test_duration():
    assert duration("00:10", "01:00") == 50
