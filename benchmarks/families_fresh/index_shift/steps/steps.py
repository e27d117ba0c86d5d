class Recipe:
    def __init__(self, title, steps):
        self.title = title
        self.steps = list(steps)

    def step(self, number):
        """Step `number`, counted from 1 as the cook reads them."""
        if not 1 <= number <= len(self.steps):
            raise IndexError(f"{self.title} has no step {number}")
        return self.steps[number]

    def outline(self):
        return [f"{n}. {self.step(n)}" for n in range(1, len(self.steps) + 1)]
