from accounts import Account, mailing_list


def test_open_only():
    accounts = [Account("ann"), Account("bob", closed=True), Account("cy")]
    assert mailing_list(accounts) == ["ann", "cy"]


def test_all_closed():
    assert mailing_list([Account("x", closed=True)]) == []


def test_none():
    assert mailing_list([]) == []
