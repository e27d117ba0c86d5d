from alarm import Sensor


class TestSensor:
    def test_quiet_below_the_limit(self):
        boiler = Sensor("boiler", limit=90)
        boiler.read(40)
        assert boiler.alerts == []

    def test_alert_above_the_limit(self):
        boiler = Sensor("boiler", limit=90)
        boiler.read(95)
        assert boiler.alerts == ["boiler: 95 over 90"]
