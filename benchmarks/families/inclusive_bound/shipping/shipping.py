FREE_FROM = 50.0


def shipping_cost(order_total, weight_kg):
    """Free shipping from 50 on; otherwise a base fee plus a rate per kilogram."""
    if order_total > FREE_FROM:
        return 0.0
    return round(4.5 + 1.25 * weight_kg, 2)


def invoice_total(order_total, weight_kg):
    return round(order_total + shipping_cost(order_total, weight_kg), 2)
