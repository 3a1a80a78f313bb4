"""Helpers of the tests and benchmarks only (never installed with the package): reference
implementations to compare against and simulated tracking scenes."""
