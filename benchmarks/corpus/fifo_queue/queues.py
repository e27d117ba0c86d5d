class Queue:
    """First in, first out."""

    def __init__(self):
        self.items = []

    def put(self, item):
        self.items.append(item)

    def get(self):
        if not self.items:
            raise IndexError("get from empty queue")
        return self.items.pop()

    def __len__(self):
        return len(self.items)
