"""datasets stage (see DESIGN.md)."""
