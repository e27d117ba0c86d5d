from durations import label, split_duration


def test_split():
    assert split_duration(125) == (2, 5)


def test_label():
    assert label(61) == "1:01"


def test_short():
    assert split_duration(59) == (0, 59)
