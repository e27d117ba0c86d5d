from pairs import neighbours, steps


class TestNeighbours:
    def test_three(self):
        assert neighbours("abc") == [("a", "b"), ("b", "c")]

    def test_one(self):
        assert neighbours([1]) == []

    def test_steps(self):
        assert steps([1, 4, 9, 16]) == [3, 5, 7]
