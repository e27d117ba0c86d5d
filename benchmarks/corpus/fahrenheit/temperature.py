def to_celsius(fahrenheit):
    return fahrenheit - 32 * 5 / 9


def to_fahrenheit(celsius):
    return celsius * 9 / 5 + 32


def describe(fahrenheit):
    celsius = round(to_celsius(fahrenheit), 1)
    return f"{fahrenheit}F = {celsius}C"
