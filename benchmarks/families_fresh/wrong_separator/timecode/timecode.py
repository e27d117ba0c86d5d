def to_seconds(timecode):
    """Seconds in an `hh:mm:ss` (or `mm:ss`) timecode."""
    total = 0
    for part in timecode.split("."):
        total = total * 60 + int(part)
    return total


def duration(start, end):
    return to_seconds(end) - to_seconds(start)
