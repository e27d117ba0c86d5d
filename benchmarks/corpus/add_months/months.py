import datetime


def add_months(day, months):
    """The same day of month, months later (clamped to the month's last day)."""
    month_index = day.month + months
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    last_day = days_in_month(year, month)
    return datetime.date(year, month, min(day.day, last_day))


def days_in_month(year, month):
    if month == 12:
        return 31
    first_next = datetime.date(year, month + 1, 1)
    return (first_next - datetime.timedelta(days=1)).day
