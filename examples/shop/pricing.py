"""A small shop's pricing rules: the example project fixloop is shown on."""

import subprocess


def load_prices(path):
    import yaml  # only needed here: the tests run without PyYAML

    with open(path) as handle:
        return yaml.load(handle)


def bulk_discount(quantity):
    """10% off from 10 items on."""
    if quantity > 10:
        return 0.10
    return 0.0


def total(prices, basket):
    amount = 0.0
    for item, quantity in basket.items():
        amount += prices[item] * quantity * (1 - bulk_discount(quantity))
    return round(amount, 2)


def archive(folder):
    subprocess.run("tar czf archive.tgz " + folder, shell=True)
