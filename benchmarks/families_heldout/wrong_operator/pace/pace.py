from dataclasses import dataclass


@dataclass
class Run:
    kilometres: float
    minutes: float

    def speed(self) -> float:
        """Kilometres per hour."""
        hours = self.minutes / 60
        return self.kilometres * hours


def fastest(runs):
    return max(runs, key=Run.speed)
