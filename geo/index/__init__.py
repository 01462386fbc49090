"""geo.index.zones."""
