from survey import complete, response_rate


def test_complete():
    assert complete({"name": "Ann", "email": "a@x.org", "consent": "yes"})


def test_missing_email():
    assert not complete({"name": "Ann", "email": "", "consent": "yes"})


def test_rate():
    full = {"name": "Ann", "email": "a@x.org", "consent": "yes"}
    assert response_rate([full, {"name": "Bob"}, full, {}]) == 0.5
