class Grid:
    def __init__(self, columns, rows):
        self.columns = columns
        self.rows = rows

    def cells(self):
        return self.columns + self.rows

    def index(self, column, row):
        if not (0 <= column < self.columns and 0 <= row < self.rows):
            raise IndexError((column, row))
        return row * self.columns + column
