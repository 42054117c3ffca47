"""Stylezoo."""
