"""Tests for benchmarks/ (the smoke run)."""
