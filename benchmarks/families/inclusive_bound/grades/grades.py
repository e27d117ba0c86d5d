BANDS = [(90, "A"), (80, "B"), (70, "C"), (60, "D")]


def letter(score):
    """The band whose threshold the score reaches (a threshold counts as reached)."""
    for threshold, grade in BANDS:
        if score > threshold:
            return grade
    return "F"


def report(scores):
    return {name: letter(score) for name, score in scores.items()}
