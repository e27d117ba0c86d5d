def all_positive(values):
    for value in values:
        if value <= 0:
            return False
        return True


def count_positive(values):
    return sum(1 for v in values if v > 0)


def first_negative(values):
    return next((v for v in values if v < 0), None)
