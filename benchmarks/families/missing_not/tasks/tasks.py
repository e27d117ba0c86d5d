def pending(tasks):
    """Titles of the tasks not done yet."""
    return [task["title"] for task in tasks if task["done"]]


def progress(tasks):
    if not tasks:
        return 1.0
    return 1 - len(pending(tasks)) / len(tasks)
