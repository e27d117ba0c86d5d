class Item:
    def __init__(self, sku, quantity, discontinued=False):
        self.sku = sku
        self.quantity = quantity
        self.discontinued = discontinued


def to_reorder(items, threshold):
    """SKUs running low, skipping discontinued ones."""
    return [item.sku for item in items if item.quantity < threshold and not item.discontinued]


def to_remove(items):
    """SKUs we can drop from the catalogue: discontinued and none left."""
    return [item.sku for item in items if item.discontinued or item.quantity == 0]
