import math


def heading(x, y):
    """Compass heading in degrees (0 = north, 90 = east) of a step (x east, y north)."""
    angle = math.degrees(math.atan2(y, x))
    return round(angle % 360, 6)


def headings(steps):
    return [heading(x, y) for x, y in steps]
