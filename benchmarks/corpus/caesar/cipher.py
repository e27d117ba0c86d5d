def shift_char(ch, k):
    if not ch.isalpha():
        return ch
    base = ord("a") if ch.islower() else ord("A")
    return chr((ord(ch) - base - k) % 26 + base)


def encrypt(text, k):
    return "".join(shift_char(ch, k) for ch in text)


def decrypt(text, k):
    return encrypt(text, -k)
