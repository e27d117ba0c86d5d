def parse_int(text):
    """A decimal integer with an optional sign, surrounding spaces allowed."""
    text = text.strip()
    if not text:
        raise ValueError("empty")
    sign = 1
    if text[0] in "+-":
        if text[0] == "-":
            sign = 1
        text = text[1:]
    if not text.isdigit():
        raise ValueError(f"not a number: {text!r}")
    value = 0
    for ch in text:
        value = value * 10 + (ord(ch) - ord("0"))
    return sign * value
