"""Import a class from a spreadsheet through the registry's HTTP API, with a progress bar.

    uv run python -m xueji_registry.bulk_cli class.xlsx --school 3506020001 --year 2026 \\
        --url http://127.0.0.1:8101 --token "$(make -s token ROLE=school CODE=3506020001)"

Every row is checked here first and every bad row listed (row, column, reason); the good rows are then sent in
chunks. Running it again with the same file enrolls nobody twice; a row corrected since (same student, other data)
changes nothing and is listed, field by field, while that student's request is pending or enrolled. A row whose
request was refused (duplicate, a rule, the county's review) is listed as still refused when it is sent as it was,
and is requested anew once corrected. Each chunk is sent with an `Idempotency-Key` of this run; a chunk whose answer
was lost (the connection dropped, a gateway timed out, the registry restarted) is sent again with the same key, up
to four times, and answered as the first send was: nothing is enrolled twice and no row is miscounted as requested
before. Exit code: 0 all imported, 1 some rows bad, not applied or still refused, 2
the file could not be read or the service refused.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import time
import uuid
from pathlib import Path

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from xueji_registry.domain.enrollment_request import EnrollmentRequest
from xueji_registry.enrollment.sheet_files import FileProblem
from xueji_registry.enrollment.sheet_headers import BASIC, MANY
from xueji_registry.enrollment.sheet_rows import check, read_sheet

CHUNK = 200
TRIES = 4  # sends of one chunk, the same key each time
AGAIN = frozenset({502, 503, 504})  # a gateway or a restarting registry: the chunk may or may not have been read


class Unanswered(Exception):
    """A chunk sent `TRIES` times without an answer."""


def _send(client: httpx.Client, key: str, body: bytes, form: dict[str, str], pause: float) -> httpx.Response:
    """Post one chunk; sent again with the same key while no answer comes back (a lost answer, a gateway's 5xx, the
    key's first send still running: 409 with Retry-After)."""
    problem = ""
    for attempt in range(TRIES):
        if attempt:
            time.sleep(pause * 2 ** (attempt - 1))
        try:
            answer = client.post(
                "/v1/students/bulk",
                files={"file": ("chunk.csv", body, "text/csv")},
                data=form,
                headers={"Idempotency-Key": key},
            )
        except httpx.TransportError as exc:
            problem = f"{type(exc).__name__}: {exc}"
            continue
        busy = answer.status_code in (409, 503) and "retry-after" in answer.headers
        if answer.status_code not in AGAIN and not busy:
            return answer
        problem = f"HTTP {answer.status_code}"
    raise Unanswered(f"no answer after {TRIES} sends ({problem})")


def _csv(requests: list[EnrollmentRequest]) -> bytes:
    """The checked rows as the registry reads a sheet: one `guardians` column per guardian (the header read for
    several columns), so each name travels to the duplicate check as typed (R14)."""
    out = io.StringIO()
    single = ["name", "gender", "birth_date", "id_number", "grade", "school_year", "admitted_on", "school_code"]
    single += [k for k in BASIC if k not in MANY]
    most = max((len(r.basic.guardians) for r in requests), default=0)
    writer = csv.writer(out)
    writer.writerow(single + ["guardians"] * most)
    for r in requests:
        row = r.model_dump(mode="json", exclude={"basic", "segment"}) | r.basic.model_dump(mode="json")
        guardians = list(r.basic.guardians)
        writer.writerow(
            ["" if row.get(k) is None else row[k] for k in single] + guardians + [""] * (most - len(guardians))
        )
    return out.getvalue().encode()


def main(argv: list[str] | None = None, *, transport: httpx.BaseTransport | None = None, pause: float = 1.0) -> int:
    parser = argparse.ArgumentParser(prog="xueji-bulk", description=__doc__.split("\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--school", required=True, help="10-digit school code")
    parser.add_argument("--year", type=int, required=True, help="school year, e.g. 2026 for 2026-2027")
    parser.add_argument("--url", default="http://127.0.0.1:8101")
    parser.add_argument("--token", required=True)
    args = parser.parse_args(argv)
    console = Console(stderr=True)
    try:
        checked = check(read_sheet(args.file.name, args.file.read_bytes()), args.school, args.year)
    except (FileProblem, OSError) as exc:
        console.print(f"[red]{args.file}: {exc}")
        return 2
    titles = {f"basic.{k}" if k in BASIC else k: title for k, title in checked.titles.items()}
    for e in checked.errors:
        console.print(f"[yellow]row {e.row}[/] {e.column or e.field}: {e.reason}")
    for w in checked.warnings:
        console.print(f"[cyan]row {w.row}[/] {w.column or w.field}: {w.reason} (imported; check it)")
    # Rows, as the sheet's rows are counted: one row may have several problems (each listed above).
    bad = len({e.row for e in checked.errors})
    several = f" ({len(checked.errors)} problems)" if len(checked.errors) != bad else ""
    console.print(f"{checked.rows} rows: {len(checked.good)} to import, {bad} rows with problems{several}")
    requested = already = otherwise = refused = 0
    headers = {"Authorization": f"Bearer {args.token}"}
    run = uuid.uuid4().hex  # this run's keys: running the command again is a new upload, answered as one
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with (
        httpx.Client(base_url=args.url, headers=headers, timeout=120, transport=transport) as client,
        Progress(*columns, console=console) as bar,
    ):
        task = bar.add_task("enrolling", total=len(checked.good))
        for start in range(0, len(checked.good), CHUNK):
            chunk = [request for _, request in checked.good[start : start + CHUNK]]
            form = {"school_code": args.school, "school_year": str(args.year)}
            try:
                answer = _send(client, f"bulk-{run}-{start // CHUNK}", _csv(chunk), form, pause)
            except Unanswered as exc:
                console.print(f"[red]rows {checked.good[start][0]}-{checked.good[start + len(chunk) - 1][0]}: {exc}")
                console.print("run the command again: rows sent before are not enrolled twice")
                return 2
            if answer.status_code != 200:
                console.print(f"[red]the registry refused the upload ({answer.status_code}): {answer.text[:500]}")
                return 2
            result = answer.json()
            requested, already = requested + result["requested"], already + result["already_requested"]
            otherwise += result["already_requested_otherwise"]
            refused += result["still_refused"]
            for kept in result["not_applied"] + result["refused"]:  # the chunk's rows, in the file's order
                row = checked.good[start + kept["row"] - 2][0]
                bar.console.print(f"[yellow]row {row}[/] {titles.get(kept['field'], kept['field'])}: {kept['reason']}")
            bar.advance(task, len(chunk))
    console.print(f"enrolment requested for {requested} students; {already} had been requested before")
    if otherwise:
        console.print(f"[yellow]{otherwise} had been requested before with other data: not applied (rows listed above)")
    if refused:
        console.print(f"[yellow]{refused} had been refused and were sent as they were: still refused (listed above)")
    return 1 if checked.errors or otherwise or refused else 0


if __name__ == "__main__":
    sys.exit(main())
