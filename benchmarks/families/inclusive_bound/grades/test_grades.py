from grades import letter, report


def test_high():
    assert letter(95) == "A"


def test_exact_threshold():
    assert letter(80) == "B"


def test_fail():
    assert letter(12) == "F"


def test_report():
    assert report({"ann": 70, "bob": 61}) == {"ann": "C", "bob": "D"}
