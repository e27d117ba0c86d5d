from buffer import Buffer


def test_one_write():
    buffer = Buffer()
    buffer.write("ab")
    assert buffer.text == "ab"


def test_two_writes():
    buffer = Buffer()
    buffer.write("ab")
    buffer.write("cd")
    assert buffer.text == "abcd"
    assert buffer.writes == 2
