"""Web views of the registry work."""
