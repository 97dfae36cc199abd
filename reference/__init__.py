"""Trusted reference solutions, one module per problem, named after its id.

Learner code never sees this package: the sandbox does not mount it.
"""
