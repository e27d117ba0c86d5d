def split_fields(line):
    """Split a CSV line on commas outside double quotes (quotes removed)."""
    fields = []
    current = ""
    quoted = False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif ch == "," and quoted:
            fields.append(current)
            current = ""
        else:
            current += ch
    fields.append(current)
    return fields
