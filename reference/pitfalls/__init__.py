"""Known mistakes, one module per problem: PITFALLS maps a name to (sentence, function).

Each function has the problem's signature and makes exactly one mistake. The judge
runs them in its own process (never in the sandbox) to name a learner's mistake
when a failing output matches one; `judge check` makes sure every one of them
fails at least one case, so the cases discriminate.
"""
