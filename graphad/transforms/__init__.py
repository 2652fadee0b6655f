"""transforms stage (see DESIGN.md)."""
