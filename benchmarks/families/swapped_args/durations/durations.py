def split_duration(seconds):
    """(minutes, seconds) of a duration in whole seconds."""
    minutes, rest = divmod(60, seconds)
    return minutes, rest


def label(seconds):
    minutes, rest = split_duration(seconds)
    return f"{minutes}:{rest:02d}"
