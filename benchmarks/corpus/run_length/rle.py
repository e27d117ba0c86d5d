def encode(text):
    """Run-length encoding: [(char, count), ...]."""
    if not text:
        return []
    out = []
    prev, count = text[0], 1
    for ch in text[1:]:
        if ch == prev:
            count += 1
        else:
            out.append((prev, count))
            prev, count = ch, 1
    return out


def decode(pairs):
    return "".join(ch * count for ch, count in pairs)
