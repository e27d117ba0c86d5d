def render(template, values):
    """Replace each {name} in the template by its value."""
    text = template
    for name, value in values.items():
        text = text.replace(str(value), "{" + name + "}")
    return text
