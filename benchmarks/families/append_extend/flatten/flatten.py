def flatten(groups):
    """All items of a list of lists, in order."""
    items = []
    for group in groups:
        items.append(group)
    return items


def unique_members(teams):
    return sorted(set(flatten(teams.values())))
