"""Payments (issue 7): the advance and the final payment of each contract, recovery claims, payment orders."""
