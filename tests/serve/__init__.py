"""Tests for dashboard/serve/."""
