ALLOWED = {".png", ".jpg", ".gif"}


def check_upload(filename, size, limit=1_000_000):
    """Raise ValueError for a file we do not accept; return its extension otherwise."""
    dot = filename.rfind(".")
    extension = filename[dot:].lower() if dot >= 0 else ""
    if extension in ALLOWED:
        raise ValueError(f"type not allowed: {filename}")
    if size > limit:
        raise ValueError(f"too large: {filename}")
    return extension
