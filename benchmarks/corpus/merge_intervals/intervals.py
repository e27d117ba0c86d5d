def merge(intervals):
    """Merge overlapping closed intervals given as (start, end) pairs."""
    merged = []
    for start, end in sorted(intervals):
        if merged[-1][1] < start:
            merged.append([start, end])
        else:
            merged[-1][1] = max(merged[-1][1], end)
    return [tuple(pair) for pair in merged]


def total_length(intervals):
    return sum(end - start for start, end in merge(intervals))
