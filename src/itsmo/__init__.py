"""Itsmo: IT service management with a built-in Service Management Office."""

__version__ = "0.1.0"
