"""Plain-Python domain model of feedbackvault: no I/O, no framework."""
