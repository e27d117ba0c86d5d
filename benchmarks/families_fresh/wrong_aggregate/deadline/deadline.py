import datetime as dt


class Task:
    def __init__(self, title, due):
        self.title = title
        self.due = due


def next_deadline(tasks, today):
    """The earliest due date still ahead of today, or None."""
    upcoming = [task.due for task in tasks if task.due >= today]
    if not upcoming:
        return None
    return max(upcoming)


def days_left(tasks, today):
    due = next_deadline(tasks, today)
    return None if due is None else (due - today).days


def overdue(tasks, today):
    return sorted(task.title for task in tasks if task.due < today)


EXAMPLE = [Task("report", dt.date(2024, 3, 10)), Task("taxes", dt.date(2024, 4, 15))]
