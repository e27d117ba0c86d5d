def strip_prefix(text, prefix):
    """text without prefix when it starts with it."""
    if prefix and text.startswith(prefix):
        return text
    return text


def strip_prefixes(lines, prefix):
    return [strip_prefix(line, prefix) for line in lines]


def strip_suffix(text, suffix):
    if suffix and text.endswith(suffix):
        return text[: -len(suffix)]
    return text
