from budget import over_budget, remaining, report


def test_remaining():
    assert remaining(100, 30) == 70


def test_overspent():
    assert remaining(100, 130) == 0


def test_over_budget():
    assert over_budget(10, 11)


def test_report():
    assert report(10, 15) == "over: 0 left"
