"""eval stage (see DESIGN.md)."""
