import datetime


def next_birthday(today, birthday):
    candidate = birthday.replace(year=today.year)
    if candidate < today:
        candidate = candidate.replace(year=today.year + 1)
    return candidate


def days_until_birthday(today, birthday):
    return (today - next_birthday(today, birthday)).days
