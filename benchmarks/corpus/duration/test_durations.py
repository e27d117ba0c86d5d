from durations import format_duration


def test_seconds_only():
    assert format_duration(5) == "0m 05s"


def test_minutes():
    assert format_duration(125) == "2m 05s"


def test_hours():
    assert format_duration(3723) == "1h 02m 03s"


def test_exact_hour():
    assert format_duration(3600) == "1h 00m 00s"


def test_parse():
    from durations import parse_duration

    assert parse_duration("1h 02m 03s") == 3723
