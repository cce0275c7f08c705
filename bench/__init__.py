"""Benchmarks (`make bench`): figures printed beside their baselines, never asserted."""
