def clamp(value, low, high):
    return max(low, min(value, high))


def safe_setpoint(requested, minimum=5.0, maximum=30.0):
    """The thermostat's setpoint, kept within its range."""
    return clamp(minimum, requested, maximum)
