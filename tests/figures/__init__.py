"""Tests for dashboard/figures/."""
