"""`python -m bench.blind [--records N] [--seed S] [--out DIR]`: write records.jsonl, labels.jsonl and meta.json."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench.blind.dataset import generate


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=20261205)
    parser.add_argument("--out", type=Path, default=Path(".local/blind"))
    args = parser.parse_args(argv)
    data = generate(args.records, args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, rows in (("records.jsonl", data.records), ("labels.jsonl", data.labels)):
        with (args.out / name).open("w", encoding="utf-8") as out:
            out.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    (args.out / "meta.json").write_text(json.dumps(data.meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(data.meta, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
