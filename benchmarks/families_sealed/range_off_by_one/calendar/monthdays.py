import datetime as dt


def month_days(year, month):
    """Every date of a month."""
    first = dt.date(year, month, 1)
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    count = (following - first).days
    return [first + dt.timedelta(days=offset) for offset in range(count - 1)]
