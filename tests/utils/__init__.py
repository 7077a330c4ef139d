"""Helpers shared by the tests: ``from utils.training import ...`` (pytest puts tests/ on
``sys.path`` for tests/conftest.py; subprocesses get it from ``utils.training.tool_env``)."""
