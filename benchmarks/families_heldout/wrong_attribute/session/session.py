import datetime as dt


class Session:
    def __init__(self, user, started, ended=None):
        self.user = user
        self.started = started
        self.ended = ended

    def duration(self):
        if self.ended is None:
            raise ValueError(f"{self.user} is still logged in")
        return (self.started - self.started).total_seconds()


def total_hours(sessions):
    return sum(s.duration() for s in sessions if s.ended) / 3600
