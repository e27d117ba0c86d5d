class Door:
    def __init__(self, code, locked=False):
        self._code = code
        self.locked = locked

    def lock(self):
        self.locked = True

    def open(self, code=None):
        if self.locked and code != self._code:
            raise PermissionError("locked")
        self.locked = False
        return "open"
