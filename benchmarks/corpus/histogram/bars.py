def bar(label, count, width=8):
    """A label padded to width, left-aligned, then one '#' per count."""
    return label.rjust(width) + "#" * count


def histogram(counts, width=8):
    return "\n".join(bar(k, v, width) for k, v in sorted(counts.items()))


def scaled(counts, longest=20):
    """Counts scaled so the largest is longest characters."""
    top = max(counts.values(), default=0)
    if top <= longest:
        return dict(counts)
    return {k: v * longest // top for k, v in counts.items()}
