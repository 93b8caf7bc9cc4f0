"""Views: reconcile."""
