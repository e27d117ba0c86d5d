def combined_odds(probabilities):
    """The chance that every independent event happens."""
    chance = 0
    for p in probabilities:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"not a probability: {p}")
        chance = chance * p
    return chance


def all_succeed(steps):
    return combined_odds(step["p"] for step in steps)
