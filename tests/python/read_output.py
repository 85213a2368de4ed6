"""Reads a sink's output with readers that are not ours, for the sink tests.

    python read_output.py delta <table folder> [<app id>]
    python read_output.py files <file sink folder>

Prints one JSON object per row (keys sorted, timestamps as `yyyy-MM-ddTHH:mm:ss.SSSZ`),
then, for `delta` with an app id, a last line `{"txnVersion": N}` from the table's log.

`delta` reads the table with the `deltalake` package (delta-rs's Python reader).
`files` follows the file sink's manifest (`_stream_metadata`) by its documented rule --
the newest `<N>.compact` file plus every plain `<N>` file after it, each a `v1` line and
then one JSON entry per committed file -- and reads just those files with
`pyarrow.dataset`, the partition columns from the Hive-style folder names.
"""

import datetime
import json
import os
import sys


def plain(value):
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc)
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (value.microsecond // 1000)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def print_rows(table):
    for row in table.to_pylist():
        print(json.dumps({k: plain(v) for k, v in row.items() if v is not None}, sort_keys=True))


def manifest_files(root):
    meta = os.path.join(root, "_stream_metadata")
    logs = {}
    for name in os.listdir(meta):
        digits, compact = (name[: -len(".compact")], True) if name.endswith(".compact") else (name, False)
        if digits.isdigit():
            batch = int(digits)
            logs[batch] = compact or logs.get(batch, False)
    compacts = [b for b, c in logs.items() if c]
    newest_compact = max(compacts) if compacts else -1
    paths = []
    for batch in sorted(b for b in logs if b >= newest_compact):
        name = "%d.compact" % batch if logs[batch] else str(batch)
        with open(os.path.join(meta, name)) as f:
            lines = f.read().splitlines()
        if lines[0] != "v1":
            raise SystemExit("%s: unknown version %r" % (name, lines[0]))
        paths += [json.loads(line)["path"] for line in lines[1:] if line.strip()]
    return [os.path.join(root, p) for p in paths]


def main():
    kind, path = sys.argv[1], sys.argv[2]
    if kind == "delta":
        import deltalake

        table = deltalake.DeltaTable(path)
        print_rows(table.to_pyarrow_table())
        if len(sys.argv) > 3:
            print(json.dumps({"txnVersion": table.transaction_version(sys.argv[3])}))
    elif kind == "files":
        import pyarrow.dataset as ds

        files = manifest_files(path)
        if not files:
            return
        dataset = ds.dataset(
            files,
            format="parquet",
            partitioning=ds.partitioning(flavor="hive"),
            partition_base_dir=path,
        )
        print_rows(dataset.to_table())
    else:
        raise SystemExit("unknown kind %r" % kind)


if __name__ == "__main__":
    main()
    # The `deltalake` package's background threads can abort the interpreter while it
    # tears down ("terminate called without an active exception", delta-rs issue 2184),
    # after every row was printed. Everything is read and flushed here, so leave without
    # running the destructors.
    sys.stdout.flush()
    os._exit(0)
