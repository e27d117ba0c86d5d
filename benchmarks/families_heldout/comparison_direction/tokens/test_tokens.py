from tokens import Token, expired, purge


def test_expired():
    tokens = [Token("old", expires_at=100.0), Token("new", expires_at=900.0)]
    assert expired(tokens, now=500.0) == ["old"], "only the old token has expired"


def test_purge_keeps_live_tokens():
    tokens = [Token("a", 1.0), Token("b", 2_000.0)]
    assert [t.value for t in purge(tokens, now=1_000.0)] == ["b"]
