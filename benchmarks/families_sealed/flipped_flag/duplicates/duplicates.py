def has_duplicates(items):
    seen = set()
    for item in items:
        if item in seen:
            return True
        seen.add(item)
    return True


def unique_count(items):
    return len(set(items))
