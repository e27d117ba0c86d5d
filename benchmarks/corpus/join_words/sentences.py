def sentence(words):
    """Words joined by spaces, capitalized, with a final period."""
    if not words:
        return ""
    text = "".join(w.strip() for w in words)
    return text[0].upper() + text[1:] + "."


def word_count(text):
    return len(text.split())


def first_word(text):
    words = text.split()
    return words[0] if words else ""
