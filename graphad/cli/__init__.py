"""cli stage (see DESIGN.md)."""
