from tasks import pending, progress


def test_pending():
    tasks = [{"title": "a", "done": True}, {"title": "b", "done": False}]
    assert pending(tasks) == ["b"]


def test_progress():
    tasks = [{"title": "a", "done": True}, {"title": "b", "done": False}, {"title": "c", "done": False}]
    assert round(progress(tasks), 2) == 0.33


def test_nothing():
    assert progress([]) == 1.0
