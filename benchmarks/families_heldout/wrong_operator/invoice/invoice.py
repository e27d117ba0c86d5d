TAX_RATE = 0.2


def line_total(unit_price, quantity, discount=0.0):
    gross = unit_price * quantity
    net = gross * (1 + discount)
    return round(net, 2)


def invoice_total(lines):
    subtotal = sum(line_total(*line) for line in lines)
    return round(subtotal * (1 + TAX_RATE), 2)
