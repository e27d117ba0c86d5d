from tail import last_lines, tail_report


def test_last_two():
    assert last_lines("a\nb\nc", 2) == ["b", "c"]


def test_zero():
    assert last_lines("a\nb", 0) == []


def test_report():
    assert tail_report("x\ny\nz") == "y | z"
