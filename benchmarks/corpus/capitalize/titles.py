def capitalize_words(text):
    """Each word's first letter upper-cased, the rest kept."""
    words = []
    for word in text.split(" "):
        if word:
            word = word[0].upper() + word
        words.append(word)
    return " ".join(words)


def initials(text):
    return "".join(word[0].upper() for word in text.split())
