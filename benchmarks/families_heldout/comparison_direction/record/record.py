def personal_best(times):
    """The fastest lap (the smallest time), or None for no laps."""
    best = None
    for lap in times:
        if best is None or lap > best:
            best = lap
    return best
