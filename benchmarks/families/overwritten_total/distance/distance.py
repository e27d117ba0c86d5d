import math


def route_length(points):
    """Length of a path through the points, in order."""
    length = 0.0
    for (x1, y1), (x2, y2) in zip(points, points[1:]):
        length = math.hypot(x2 - x1, y2 - y1)
    return length
