"""A blind labelled set for the duplicate check (issue 16, R14): Hunan children, built apart from the detector."""
