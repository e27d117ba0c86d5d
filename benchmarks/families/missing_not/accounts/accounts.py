class Account:
    def __init__(self, name, closed=False):
        self.name = name
        self.closed = closed


def mailing_list(accounts):
    """Names of the accounts still open, in order."""
    names = []
    for account in accounts:
        if account.closed:
            names.append(account.name)
    return names
