"""geo.districts."""
