"""Helpers shared by the tests (importable as ``utils`` from tests/, see conftest.py)."""
