"""Security tier: attacks on the running local shop (the ``shop`` fixture: tests/conftest.py, shared with e2e)."""
