"""Load privacy policies from YAML and describe them for privacy officers."""
