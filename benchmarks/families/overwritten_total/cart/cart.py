def cart_total(lines):
    """Sum of price times quantity over the cart's lines."""
    total = 0
    for line in lines:
        total = line["price"] * line["quantity"]
    return round(total, 2)
