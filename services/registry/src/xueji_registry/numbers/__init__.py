"""Numbers a record is given beyond its first L or J number: the provincial supplementary number (`supplementary`,
R07) and the G numbers a county's batch asks the national tier for (`formal`, R03). The counters they draw from are
`allocation.Sequences`, which the service holds."""
