def parse_settings(text):
    """key = value lines; blank lines and lines starting with # are skipped."""
    settings = {}
    for raw in text.splitlines():
        line = raw.strip()
        if line and line.startswith("#"):
            key, _, value = line.partition("=")
            settings[key.strip()] = value.strip()
    return settings
