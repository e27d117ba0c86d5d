def parse_row(line):
    """Fields of a semicolon-separated export line, stripped."""
    return [field.strip() for field in line.rstrip("\n").split(",")]


def parse(text):
    rows = [parse_row(line) for line in text.splitlines() if line.strip()]
    header, body = rows[0], rows[1:]
    return [dict(zip(header, row)) for row in body]
