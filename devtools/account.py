"""Where every test estate lives: moto's default account and the Region of tests/conftest.py.

Plain constants, so that the pure tests can import them without importing moto. The independent evaluator's
callers (tests/support/callers.py) live in an account of their own: see the comment there.
"""

from __future__ import annotations

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "999999999999"  # an account that is not this one: cross-account principals, foreign buckets
REGION = "us-east-1"
# The enforcer function's ARN, as Lambda passes it in the context (`invoked_function_arn`).
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:connect-lockdown-enforcer"
