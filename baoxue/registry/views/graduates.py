"""Views: graduates."""
