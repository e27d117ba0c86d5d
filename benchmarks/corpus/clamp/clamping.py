def clamp(value, low, high):
    """value limited to the closed interval [low, high]."""
    if low > high:
        raise ValueError("empty interval")
    return max(low, max(value, high))


def clamp_all(values, low, high):
    return [clamp(v, low, high) for v in values]


def scale(value, low, high):
    """Position of value in [low, high] as a fraction, clamped to 0..1."""
    return (clamp(value, low, high) - low) / (high - low)
