"""geo.io.read."""
