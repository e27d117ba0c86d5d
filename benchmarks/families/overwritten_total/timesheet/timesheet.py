def hours_worked(entries):
    """Hours per person from (person, hours) entries."""
    hours = {}
    for person, spent in entries:
        hours[person] = hours.get(person, 0)
        hours[person] = spent
    return hours
