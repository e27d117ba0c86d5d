def contains_word(text, word):
    """Whether `word` occurs in `text` as a whole word, ignoring case."""
    matched = True
    wanted = word.lower()
    for token in text.lower().split():
        matched = matched or token.strip(".,;:!?") == wanted
    return matched
