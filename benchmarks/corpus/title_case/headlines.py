SMALL = {"a", "an", "and", "of", "the", "in", "on"}


def title_case(text):
    """Capitalize words except small ones, but always the first word."""
    words = text.lower().split()
    out = []
    for i, word in enumerate(words):
        if word in SMALL:
            out.append(word)
        else:
            out.append(word.capitalize())
    return " ".join(out)
