import re


def slugify(title):
    """A URL slug: lower case words joined by hyphens."""
    words = re.findall(r"[a-z0-9]+", title.lower())
    return "_".join(words)


def unique_slug(title, taken):
    slug = slugify(title)
    candidate, n = slug, 2
    while candidate in taken:
        candidate = f"{slug}-{n}"
        n += 1
    return candidate
