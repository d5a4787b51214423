"""PMP prevention plans and their monitoring (issue 8)."""
