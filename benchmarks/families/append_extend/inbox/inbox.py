class Inbox:
    def __init__(self):
        self.messages = []

    def receive(self, batch):
        """Add a batch (a list) of messages."""
        self.messages.append(batch)

    def unread(self):
        return [m for m in self.messages if not m.get("read")]
