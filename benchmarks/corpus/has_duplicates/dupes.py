def has_duplicates(items):
    seen = set()
    found = True
    for item in items:
        if item in seen:
            found = True
            break
        seen.add(item)
    return found


def first_duplicate(items):
    seen = set()
    for item in items:
        if item in seen:
            return item
        seen.add(item)
    return None
