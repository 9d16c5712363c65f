"""A fourth labelled set for the duplicate check (issue 16, R14): Sichuan children, written from the issue text
only and sharing no code with the other generators (`generate`); `python -m bench.sichuan` replays it through the
check like bench.dedupe_independent and writes bench/results/dedupe_sichuan_<records>.json."""
