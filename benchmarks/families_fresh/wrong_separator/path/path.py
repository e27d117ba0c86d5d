class Node:
    def __init__(self, name, parent=None):
        self.name = name
        self.parent = parent

    def path(self):
        """Slash-separated names from the root down to this node."""
        names = []
        node = self
        while node is not None:
            names.append(node.name)
            node = node.parent
        return ".".join(reversed(names))

    def depth(self):
        return 0 if self.parent is None else 1 + self.parent.depth()
