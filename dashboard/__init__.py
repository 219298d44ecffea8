"""Safety Partnership Atlas: the package (see ARCHITECTURE.md for its rooms and how data flows)."""
