"""Notify's pure rules: what a notification says and to whom, the dashboard's stage states and counts.

No I/O and no clock here: time and the working-day calendar are arguments.
"""
