"""The demo page's example pictures (CC0, drawn by make.py in this folder; see LICENSE.md)."""
