class Buffer:
    def __init__(self):
        self.text = ""
        self.writes = 0

    def write(self, chunk):
        """Append a chunk to the buffer."""
        self.text = chunk
        self.writes += 1
        return len(chunk)
