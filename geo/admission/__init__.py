"""Admission in shared zones (多校划片): lottery odds, the verifiable draw, cross-zone and migrant shares."""
