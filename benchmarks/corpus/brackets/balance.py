PAIRS = {")": "(", "]": "[", "}": "{"}


def balanced(text):
    """Whether (), [] and {} are properly nested; other characters ignored."""
    stack = []
    for ch in text:
        if ch in "([{":
            stack.append(ch)
        elif ch in PAIRS:
            if not stack or stack.pop() != PAIRS[ch]:
                return False
    return True
