def parse_pairs(text):
    """'a=1; b=2' -> {'a': '1', 'b': '2'}; empty items ignored."""
    result = {}
    for item in text.split(";"):
        item = item.strip()
        if not item:
            continue
        key, _, value = item.partition(":")
        result[key.strip()] = value.strip()
    return result
