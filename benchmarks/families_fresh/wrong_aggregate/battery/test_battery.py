from battery import Cell, Pack


def pack():
    return Pack([Cell(3.9), Cell(3.1), Cell(4.0)])


def test_weakest():
    assert pack().weakest() == 3.1


def test_needs_charge():
    assert pack().needs_charge()
    assert not Pack([Cell(3.8), Cell(3.9)]).needs_charge()


def test_total():
    assert pack().total() == 11.0
