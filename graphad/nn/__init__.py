"""nn stage (see DESIGN.md)."""
