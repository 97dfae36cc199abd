"""Errors the judge raises for its users (never for a learner's code, which gets a Result)."""


class UsageError(Exception):
    """Bad input from the person running the judge: exit code 2, one clear line."""


class UnknownProblem(UsageError):
    def __init__(self, problem_id: str, valid: list[str]):
        self.problem_id = problem_id
        self.valid = valid
        super().__init__(f"unknown problem {problem_id!r}; valid ids: {', '.join(valid)}")


class ProblemError(Exception):
    """A malformed problem folder: names the file and the field."""
