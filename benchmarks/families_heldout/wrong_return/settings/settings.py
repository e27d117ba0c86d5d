def parse_settings(text, separator="="):
    """`key = value` lines into a dict; blank lines and `#` comments skipped."""
    found = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        key, _, value = line.partition(separator)
        found[key.strip()] = value.strip()
    return raw
