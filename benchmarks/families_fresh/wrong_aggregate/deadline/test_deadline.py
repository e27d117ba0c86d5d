import datetime as dt

from deadline import EXAMPLE, Task, days_left, next_deadline, overdue


def test_next():
    assert next_deadline(EXAMPLE, dt.date(2024, 3, 1)) == dt.date(2024, 3, 10)


def test_days_left():
    assert days_left(EXAMPLE, dt.date(2024, 3, 8)) == 2


def test_nothing_ahead():
    assert next_deadline(EXAMPLE, dt.date(2024, 5, 1)) is None


def test_overdue():
    tasks = EXAMPLE + [Task("old", dt.date(2024, 1, 1))]
    assert overdue(tasks, dt.date(2024, 3, 20)) == ["old", "report"]
