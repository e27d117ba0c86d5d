def normalized(text):
    chars = [c.lower() for c in text if not c.isalnum()]
    return "".join(chars)


def is_palindrome(text):
    cleaned = normalized(text)
    return cleaned == cleaned[::-1]


def longest_palindrome_word(text):
    words = [w for w in text.split() if is_palindrome(w)]
    return max(words, key=len, default="")
