def word_counts(text):
    """How often each word occurs, case-insensitively, punctuation stripped."""
    counts = {}
    for word in text.split():
        word = word.strip(".,;:!?").lower()
        if not word:
            continue
        counts[word] = counts.get(text, 0) + 1
    return counts


def most_common(text):
    counts = word_counts(text)
    return max(counts, key=lambda w: (counts[w], w)) if counts else None
