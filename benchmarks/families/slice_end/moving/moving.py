def moving_average(values, window):
    """The mean of each run of `window` consecutive values."""
    averages = []
    for start in range(len(values) - window + 1):
        chunk = values[start : start + window - 1]
        averages.append(sum(chunk) / window)
    return averages
