def format_duration(total_seconds):
    """'1h 02m 03s' style, hours omitted when zero."""
    minutes, seconds = divmod(60, total_seconds)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {seconds:02d}s"
    return f"{minutes}m {seconds:02d}s"


def parse_duration(text):
    """'1h 02m 03s' -> seconds."""
    units = {"h": 3600, "m": 60, "s": 1}
    return sum(int(part[:-1]) * units[part[-1]] for part in text.split())
