"""geo.capacity.utilisation."""
