class Node:
    def __init__(self, value, next=None):
        self.value = value
        self.next = next


def from_list(values):
    head = None
    for value in reversed(values):
        head = Node(value, head)
    return head


def to_list(head):
    out = []
    while head is not None:
        out.append(head.value)
        head = head.next
    return out


def reverse(head):
    prev = None
    node = head
    while node is not None:
        following = node.next
        node.next = prev
        prev = node
        node = following
    return node
