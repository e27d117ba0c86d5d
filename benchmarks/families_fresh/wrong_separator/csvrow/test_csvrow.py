from csvrow import parse, parse_row


def test_row():
    assert parse_row("a; b ;c\n") == ["a", "b", "c"]


def test_decimal_comma_kept():
    assert parse_row("price;3,50") == ["price", "3,50"]


def test_parse():
    assert parse("name;qty\napple;3\n\npear;1") == [
        {"name": "apple", "qty": "3"},
        {"name": "pear", "qty": "1"},
    ]
