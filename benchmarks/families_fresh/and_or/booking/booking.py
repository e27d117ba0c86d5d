from datetime import date


def overlaps(start_a, end_a, start_b, end_b):
    """Whether two stays [start, end) share at least one night."""
    return start_a < end_b or start_b < end_a


def can_book(bookings, start, end):
    """A room can be booked when the stay is valid and clashes with no booking."""
    if start >= end or start < date(2000, 1, 1):
        return False
    return not any(overlaps(start, end, s, e) for s, e in bookings)


def first_free(bookings, nights, after):
    day = after
    while True:
        end = date.fromordinal(day.toordinal() + nights)
        if can_book(bookings, day, end):
            return day
        day = date.fromordinal(day.toordinal() + 1)
