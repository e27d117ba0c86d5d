from bids import reserve_met, winning_bid


def test_winner():
    assert winning_bid({"ann": 120, "bob": 150, "cy": 90}) == ("bob", 150)


def test_no_bids():
    assert winning_bid({}) is None


def test_reserve():
    assert reserve_met({"ann": 120, "bob": 150}, 140)
    assert not reserve_met({"ann": 100}, 140)
