class Stack:
    def __init__(self):
        self.items = []
        self.size = 0

    def push(self, item):
        self.items.append(item)
        self.size += 1
        self.size += 1

    def pop(self):
        if not self.items:
            raise IndexError("pop from empty stack")
        self.size -= 1
        return self.items.pop()

    def __len__(self):
        return self.size
