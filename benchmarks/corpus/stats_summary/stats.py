def summary(values):
    """Mean, minimum and maximum, rounded to two decimals."""
    if not values:
        return None
    mean = sum(values) / len(values)
    return {
        "mean": round(mean, 1),
        "min": min(values),
        "max": max(values),
    }
