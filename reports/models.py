"""Field reports."""
