class Sensor:
    def __init__(self, name, limit):
        self.name = name
        self.limit = limit
        self.alerts = []

    def read(self, value):
        if value < self.limit:
            self.alerts.append(f"{self.name}: {value} over {self.limit}")
        return value
