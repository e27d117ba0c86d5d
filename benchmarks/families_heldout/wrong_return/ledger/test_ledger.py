from ledger import Ledger


class TestLedger:
    def test_empty(self):
        assert Ledger().balance() == 0

    def test_credits_and_debits(self):
        book = Ledger([1200, -450]).add(-50)
        assert book.balance() == 700

    def test_only_debits(self):
        assert Ledger([-5, -5]).balance() == -10
