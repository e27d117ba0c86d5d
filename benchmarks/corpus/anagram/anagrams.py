def is_anagram(first, second):
    """Same letters, ignoring spaces and case."""
    first = first.replace(" ", "").lower()
    second = second.replace(" ", "").lower()
    return sorted(first) == second


def anagrams_of(word, candidates):
    return [c for c in candidates if c != word and is_anagram(word, c)]


def letter_counts(word):
    counts = {}
    for ch in word.lower():
        if ch.isalpha():
            counts[ch] = counts.get(ch, 0) + 1
    return counts
