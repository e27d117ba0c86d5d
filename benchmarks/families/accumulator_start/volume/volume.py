def volume(dimensions):
    """The product of a box's side lengths."""
    result = 0
    for side in dimensions:
        result *= side
    return result


def total_volume(boxes):
    return sum(volume(box) for box in boxes)
