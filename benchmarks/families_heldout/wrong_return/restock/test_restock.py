from restock import restock, shortage


def test_tops_up_low_items():
    after = restock({"bolts": 3, "nuts": 40}, threshold=10, amount=50)
    assert after == {"bolts": 53, "nuts": 40}, "only the bolts were low"


def test_leaves_the_input_alone():
    levels = {"washers": 1}
    restock(levels, 5, 5)
    assert levels == {"washers": 1}


def test_shortage():
    assert shortage({"a": 1, "b": 9}, 5) == ["a"]
