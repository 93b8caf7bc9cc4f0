"""Views: changes."""
