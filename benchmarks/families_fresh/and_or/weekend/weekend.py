import datetime as dt

HOLIDAYS = {dt.date(2024, 12, 25), dt.date(2024, 1, 1)}


def is_working_day(day):
    weekend = day.weekday() >= 5
    return not weekend or day not in HOLIDAYS


def working_days(start, end):
    """Working days in [start, end]."""
    count = 0
    day = start
    while day <= end:
        if is_working_day(day):
            count += 1
        day += dt.timedelta(days=1)
    return count
