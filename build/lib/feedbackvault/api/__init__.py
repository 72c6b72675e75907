"""HTTP interface: one flask-smorest blueprint per audience."""
