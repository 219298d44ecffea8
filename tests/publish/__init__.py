"""Tests for dashboard/publish/."""
