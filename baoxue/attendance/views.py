"""Web views of attendance."""
