from inbox import Inbox


def test_receive():
    box = Inbox()
    box.receive([{"id": 1}, {"id": 2, "read": True}])
    assert len(box.messages) == 2


def test_unread():
    box = Inbox()
    box.receive([{"id": 1}])
    box.receive([{"id": 2, "read": True}, {"id": 3}])
    assert [m["id"] for m in box.unread()] == [1, 3]
