"""Shared fixtures: seeded data generated once per session."""
