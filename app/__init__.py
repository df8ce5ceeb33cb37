"""Poortwachter: reintegration case management under the Wet verbetering poortwachter."""

__version__ = "0.1.0"
