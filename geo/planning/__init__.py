"""geo.planning."""
