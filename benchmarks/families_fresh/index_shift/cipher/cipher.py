ALPHABET = "abcdefghijklmnopqrstuvwxyz"


def shift_letter(letter, key):
    if letter not in ALPHABET:
        return letter
    return ALPHABET[(ALPHABET.index(letter) + key) % len(ALPHABET)]


def encode(text, key):
    return "".join(shift_letter(ch, key) for ch in text.lower())


def neighbours(letter):
    """The letters just before and just after, wrapping around."""
    position = ALPHABET.index(letter)
    return ALPHABET[position - 1], ALPHABET[position % len(ALPHABET)]
