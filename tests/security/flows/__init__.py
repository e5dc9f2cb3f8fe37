"""Abuse stories: each a sequence of legitimate API steps that once broke a rule (SPEC §8)."""
