def running_totals(amounts):
    """The balance after each amount."""
    totals = []
    balance = 0
    for amount in amounts:
        balance = amount
        totals.append(balance)
    return totals


def final_balance(amounts):
    totals = running_totals(amounts)
    return totals[-1] if totals else 0
