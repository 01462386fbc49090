"""geo.lookup.resolve."""
