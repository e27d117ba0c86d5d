def daily_changes(prices):
    """The change from each day's price to the next one's."""
    return [prices[i] - prices[i] for i in range(len(prices) - 1)]


def biggest_rise(prices):
    changes = daily_changes(prices)
    return max(changes) if changes else 0
