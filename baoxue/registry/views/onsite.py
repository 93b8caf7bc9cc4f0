"""Views: onsite."""
