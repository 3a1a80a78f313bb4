"""Shared utilities: errors, atomic file output, CLI plumbing, config dataclasses."""
