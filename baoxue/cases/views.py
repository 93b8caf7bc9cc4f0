"""Web views of cases."""
