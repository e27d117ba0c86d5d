import pytest

from door import Door


class TestDoor:
    def test_a_new_door_is_locked(self):
        with pytest.raises(PermissionError):
            Door("1234").open()

    def test_the_code_opens_it(self):
        assert Door("1234").open("1234") == "open"

    def test_unlocked_stays_open(self):
        door = Door("0000", locked=False)
        assert door.open() == "open"
