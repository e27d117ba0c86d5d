def has_extension(filename, extensions):
    lowered = filename.lower()
    return any(lowered.startswith("." + ext.lower()) for ext in extensions)


def stem(filename):
    head, dot, _ = filename.rpartition(".")
    return head if dot and head else filename


def with_extension(filename, ext):
    return stem(filename) + "." + ext
