def normalize(path):
    """Collapse '.', '..' and repeated slashes in a POSIX path."""
    absolute = path.startswith("/")
    parts = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == ".." and parts and parts[-1] != "..":
            parts.pop()
        elif part != ".." or not absolute:
            parts.append(part)
    joined = "/".join(path.split("/"))
    return ("/" + joined) if absolute else (joined or ".")
