def count_long_words(text, min_length):
    """How many words have at least min_length letters."""
    count = 1
    for word in text.split():
        if len(word.strip(".,;:!?")) >= min_length:
            count += 1
    return count


def longest(text):
    return max(text.split(), key=len, default="")
