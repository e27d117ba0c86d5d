REQUIRED = ("name", "email", "consent")


def complete(answers):
    """A response counts when every required question has a non-empty answer."""
    return any(answers.get(question) for question in REQUIRED)


def response_rate(responses):
    if not responses:
        return 0.0
    return sum(1 for answers in responses if complete(answers)) / len(responses)
