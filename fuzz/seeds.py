#!/usr/bin/env python3
"""Writes fuzz/stream_blocks.txt and the seeds of the macro targets' corpora: the body of
every `stream! { .. }` block of tests/tests/*.rs, the book and the examples.

Run from the repository's root: python3 fuzz/seeds.py
"""
import glob
import hashlib
import os
import re

SEPARATOR = "\n//----\n"


def bodies(text):
    for m in re.finditer(r"stream!\s*\{", text):
        i = m.end()
        depth = 1
        j = i
        while j < len(text) and depth:
            c = text[j]
            if c == '"':
                j += 1
                while j < len(text) and text[j] != '"':
                    j += 2 if text[j] == "\\" else 1
            elif c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
            j += 1
        if depth == 0:
            yield text[i : j - 1].strip()


files = sorted(glob.glob("tests/tests/*.rs") + glob.glob("book/src/**/*.md", recursive=True)
               + glob.glob("examples/**/*.rs", recursive=True))
seen = []
for f in files:
    with open(f) as h:
        for body in bodies(h.read()):
            # doc-test lines hidden with `# ` in the book
            body = "\n".join(re.sub(r"^(\s*)# ", r"\1", line) for line in body.split("\n"))
            if body and body not in seen:
                seen.append(body)

with open("fuzz/stream_blocks.txt", "w") as out:
    out.write(SEPARATOR.join(seen))
for corpus in ("macro_text",):
    os.makedirs(f"fuzz/corpus/{corpus}", exist_ok=True)
    for body in seen:
        name = hashlib.sha1(body.encode()).hexdigest()
        with open(f"fuzz/corpus/{corpus}/{name}", "w") as h:
            h.write(body)
os.makedirs("fuzz/corpus/macro_edit", exist_ok=True)
for i in range(len(seen)):
    with open(f"fuzz/corpus/macro_edit/block-{i:03}", "wb") as h:
        h.write(i.to_bytes(2, "little"))
print(f"{len(seen)} blocks from {len(files)} files")


def seed(target, name, data):
    os.makedirs(f"fuzz/corpus/{target}", exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(f"fuzz/corpus/{target}/seed-{name}", "wb") as h:
        h.write(data)


fixtures = "tests/fixtures/checkpoints"
# file source inputs: the fixtures' JSON lines, and small CSV and text files
json_inputs = sorted(glob.glob(f"{fixtures}/*/input/*.jsonl"))[:6]
for i, f in enumerate(json_inputs):
    with open(f, "rb") as h:
        body = h.read()[:2000]
    for selector in (0, 2, 0x10 | 1, 0x1C | 2):
        seed("decode_json", f"{i}-{selector:02x}", bytes([selector]) + body)
seed("decode_json", "types", b"\x02" + b'{"id":1,"name":"a","score":1.5,"ok":true,"ts":"2024-01-01T00:00:00Z",'
     b'"day":"2024-01-02","n":3,"x":0.5,"us":"2024-01-01T00:00:00.000001Z","tags":["a","b"],"raw":"YQ=="}\n'
     b'{"id":"x"}\n{bad\n\xef\xbb\xbf{"id":2}\n')
csv_files = {
    "plain": b"1,ann,2.5\n2,bob,\n3,\"c, d\",1e3\n",
    "header": b"id,name,score,ok,ts,day,n,x,us\n1,a,1.5,true,2024-01-01T00:00:00Z,2024-01-02,3,0.5,2024-01-01T00:00:00Z\nx,y\n",
    "quoted": b'1,"a ""q"" \\" b",2\r\n2,NA,NA\r\n"3",\'x\',\n',
    "bad": b"1,a,b\n2,c\n,,,,,\n\xff,\xfe\n",
}
for name, body in csv_files.items():
    for selector, options in ((0, 0), (2, 1), (0x12, 0x21), (0x1C, 0x11), (1, 0)):
        seed("decode_csv", f"{name}-{selector:02x}{options:02x}", bytes([selector, options]) + body)
for name, body in {"lines": b"a\nb\r\nc\rd", "bom": b"\xef\xbb\xbfone\ntwo\n", "bad": b"ok\n\xff\xfe\nok\n"}.items():
    for mode in range(3):
        seed("decode_text", f"{name}-{mode}", bytes([mode]) + body)

# checkpoint files: offsets, commits, metadata and source logs of the fixtures
for fx in sorted(os.listdir(fixtures)):
    cp = f"{fixtures}/{fx}/checkpoint"
    for f in sorted(glob.glob(f"{cp}/offsets/*"))[:3]:
        with open(f, "rb") as h:
            body = h.read()
        sources = body.count(b"\n") - 1
        seed("checkpoint_log", f"{fx}-offsets-{os.path.basename(f)}", bytes([0 | (sources & 3) << 2]) + body)
    for f in sorted(glob.glob(f"{cp}/commits/*"))[:2]:
        with open(f, "rb") as h:
            seed("checkpoint_log", f"{fx}-commits-{os.path.basename(f)}", b"\x01" + h.read())
    with open(f"{cp}/metadata", "rb") as h:
        seed("checkpoint_log", f"{fx}-metadata", b"\x02" + h.read())
    for f in sorted(glob.glob(f"{cp}/sources/*/*"))[:2]:
        with open(f, "rb") as h:
            seed("checkpoint_log", f"{fx}-source-{os.path.basename(f)}", b"\x03" + h.read())


# state files: the fixtures' deltas and snapshots of the two shapes the target knows,
# whole and as sections
def sections(data):
    header = data.index(b"\n") + 1
    payload = data[header + 8 : -4]
    out = []
    while payload:
        n = int.from_bytes(payload[:8], "little")
        out.append(payload[8 : 8 + n])
        payload = payload[8 + n :]
    return out


for fx, shape in (("window_count", 0), ("dedup", 4)):
    files = sorted(glob.glob(f"{fixtures}/{fx}/checkpoint/state/0/0/*"))
    files = [f for f in files if f.endswith(".snapshot")] + [f for f in files if f.endswith(".delta")][:3]
    for f in files:
        with open(f, "rb") as h:
            data = h.read()
        snapshot = 1 if f.endswith(".snapshot") else 0
        name = f"{fx}-{os.path.basename(f)}"
        seed("state_file", f"{name}-whole", bytes([shape | snapshot]) + data)
        parts = sections(data)
        if snapshot:
            seed("state_file", f"{name}-sections", bytes([shape | 2 | 1]) + parts[0])
        else:
            seed("state_file", f"{name}-sections",
                 bytes([shape | 2]) + len(parts[0]).to_bytes(2, "little") + parts[0] + parts[1])

# file sink manifests: a plain file, a compaction, the layout
entry = '{"path":"country=DE/part-00000-0.parquet","size":1234,"rows":10,"batchId":%d,"commitMs":1704067200000,"action":"add"}'
seed("sink_manifest", "batch", "\x00v1\n" + entry % 3 + "\n")
seed("sink_manifest", "compact", "\x00v1\n" + "\n".join(entry % i for i in range(4)) + "\n\n")
seed("sink_manifest", "layout",
     '\x01v1\n{"format":"parquet","partitionBy":["country"],"schema":{"fields":['
     '{"name":"country","data_type":"Utf8","nullable":false,"dict_id":0,"dict_is_ordered":false,"metadata":{}},'
     '{"name":"ts","data_type":{"Timestamp":["Millisecond","UTC"]},"nullable":true,"dict_id":0,"dict_is_ordered":false,"metadata":{}}'
     '],"metadata":{}}}\n')
