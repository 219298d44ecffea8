"""Tests for dashboard/data/."""
