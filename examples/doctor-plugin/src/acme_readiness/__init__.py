"""ACME's readiness checks for `shipyard doctor`."""
