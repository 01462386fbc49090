"""geo.address."""
