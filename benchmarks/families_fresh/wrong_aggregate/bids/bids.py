def winning_bid(bids):
    """(bidder, amount) of the highest bid; None when nobody bid."""
    if not bids:
        return None
    return min(bids.items(), key=lambda pair: pair[1])


def reserve_met(bids, reserve):
    best = winning_bid(bids)
    return best is not None and best[1] >= reserve
