"""geo.network.graph."""
