def days_with_visits(log):
    """How many distinct days appear in a visit log of (day, page) pairs."""
    seen = set()
    days = 1
    for day, _page in log:
        if day not in seen:
            seen.add(day)
            days += 1
    return days


def busiest(log):
    counts = {}
    for day, _page in log:
        counts[day] = counts.get(day, 0) + 1
    return max(counts, key=counts.get) if counts else None
