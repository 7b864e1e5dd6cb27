"""One-stop offices."""
