"""Enrollment (R01, R03, R07, R14): a school's request stored and sent to dedupe (`requests`), dedupe's verdicts
completing the requests a batch at a time (`intake`), and a class enrolled from a spreadsheet: the file read
(`sheet_files`), its header (`sheet_headers`) and cells (`sheet_values`), its rows checked (`sheet_rows`), the
upload's answer (`upload_answer`), a refused row's next attempt (`attempts`)."""
