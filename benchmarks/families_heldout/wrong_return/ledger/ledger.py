class Ledger:
    """Entries in cents: credits positive, debits negative."""

    def __init__(self, entries=()):
        self.entries = list(entries)

    def add(self, cents):
        self.entries.append(cents)
        return self

    def balance(self):
        credit = sum(e for e in self.entries if e > 0)
        debit = -sum(e for e in self.entries if e < 0)
        net = credit - debit
        return credit
