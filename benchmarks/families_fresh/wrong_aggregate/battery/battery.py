class Cell:
    def __init__(self, volts):
        self.volts = volts


class Pack:
    """Cells in series: the pack is as weak as its weakest cell."""

    CUTOFF = 3.0

    def __init__(self, cells):
        self.cells = cells

    def weakest(self):
        return max(cell.volts for cell in self.cells)

    def needs_charge(self):
        return self.weakest() <= self.CUTOFF + 0.2

    def total(self):
        return round(sum(cell.volts for cell in self.cells), 2)
