__version__ = '0.1.0'


def parse_version_info(version_str: str) -> tuple:
    """Parse a version string such as ``'0.1.0'`` into ``(0, 1, 0)``."""
    return tuple(int(part) for part in version_str.split('.') if part.isdigit())


version_info = parse_version_info(__version__)
