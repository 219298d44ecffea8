"""Tests for dashboard/web/."""
