"""gd-explorer: explore gradient descent."""

__version__ = "0.1.0"
