#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (Fuzz/Sources/LatchkeyFuzz) into OUT/<target>/.

Usage: Fuzz/make-seeds.py OUT [DATA_DIR]
  Seeds come from the project's test fixtures (Tests/BookingsTests/Fixtures, the WebhookAuth library vectors),
  the llhttp corpus at ../shared/corpora/llhttp read in place (skipped when absent), a few hand-made requests,
  and, for the journal target, the snapshot and journal segments of DATA_DIR (a data directory written by
  `latchkey serve`), when given. Each target's input layout is documented in its Swift file.
"""
import base64, hashlib, hmac, json, os, pathlib, re, sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = pathlib.Path(sys.argv[1])
DATA_DIR = pathlib.Path(sys.argv[2]) if len(sys.argv) > 2 else None
counts = {}


def seed(target, data):
    folder = OUT / target
    folder.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    (folder / name).write_bytes(data)
    counts[target] = counts.get(target, 0) + 1


def llhttp_decode(source):
    """The llhttp markdown escapes, as Tests/HTTPServerTests/LLHTTPCorpus.swift reads them."""
    text = source.replace("\\\n", "").replace("\n", "\r\n").encode()
    out, i = bytearray(), 0
    while i < len(text):
        b = text[i]
        if b != 0x5C or i + 1 >= len(text):
            out.append(b); i += 1; continue
        n = chr(text[i + 1])
        if n in "rntf":
            out.append({"r": 13, "n": 10, "t": 9, "f": 12}[n]); i += 2
        elif n == "x":
            out.append(int(text[i + 2:i + 4] or b"0", 16)); i += 4
        elif n in "01234567":
            j = i + 1
            while j < len(text) and j < i + 4 and chr(text[j]) in "01234567": j += 1
            out.append(int(text[i + 1:j], 8)); i = j
        else:
            out.append(b); i += 1
    return bytes(out)


# MARK: HTTP parser: first byte picks the piece size of the split run.
llhttp = ROOT.parent / "shared" / "corpora" / "llhttp"
if llhttp.is_dir():
    for md in sorted(llhttp.glob("*.md")):
        if md.name == "SOURCE.md":
            continue
        for block in re.findall(r'meta=\{[^\n]*"type": "request[^\n]*\n```http\n(.*?)\n```', md.read_text(), re.S):
            seed("http-parser", bytes([len(block) % 17]) + llhttp_decode(block + "\n"))
BODY = b'{"event":"booking.created","booking":{"id":"B1"}}'
for request in [
    b"POST /webhooks/native HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY),
    b"POST /webhooks/native HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n0\r\nT: v\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    b"POST /x HTTP/1.0\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n{}",
    b"POST /x HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n{}",
]:
    seed("http-parser", b"\x03" + request)

# MARK: signature schemes (secrets as in SignatureTarget.swift)
vectors = json.loads((ROOT / "Tests/WebhookAuthTests/Fixtures/library-vectors.json").read_text())["vectors"]
for v in vectors:
    seed("standard-webhooks", b"\0".join([v["id"].encode(), str(v["timestamp"]).encode(), v["signature"].encode(), v["body"].encode()]))
HMAC_KEY = b"fuzz-body-hmac-secret"
for body in [BODY, b"", b"{}"]:
    tag = hmac.new(HMAC_KEY, body, hashlib.sha256).digest()
    seed("body-hmac", b"\0".join([b"\0", tag.hex().encode(), body]))
    seed("body-hmac", b"\0".join([b"\1", b"sha256=" + tag.hex().encode(), body]))
    seed("body-hmac", b"\0".join([b"\2", base64.b64encode(tag), body]))
seed("basic-auth", b"Basic " + base64.b64encode(b"fuzz-user:fuzz-password"))
seed("basic-auth", b"basic  " + base64.b64encode(b"other:pw") + b" ")
seed("path-token", b"fuzz-path-token-0123456789")

# MARK: adapters
for adapter in ["native", "guesty", "hostaway", "hospitable", "lodgify"]:
    for fixture in sorted((ROOT / "Tests/BookingsTests/Fixtures" / adapter).glob("*.json")):
        seed(adapter, fixture.read_bytes())

# MARK: journal: first byte = layout (0 segment, 1 snapshot, 2 snapshot+segment, 3 two segments), second = cut.
if DATA_DIR:
    snapshot = DATA_DIR / "snapshot"
    segments = sorted((DATA_DIR / "journal").glob("*.log"))
    for segment in segments:
        data = segment.read_bytes()
        seed("journal", b"\0\0" + data)
        seed("journal", b"\3\x80" + data + data)
    if snapshot.exists():
        seed("journal", b"\1\0" + snapshot.read_bytes())
        if segments:
            both = snapshot.read_bytes() + segments[-1].read_bytes()
            cut = len(snapshot.read_bytes()) * 255 // max(len(both), 1)
            seed("journal", bytes([2, cut]) + both)
seed("journal", b"\0\0")

print(" ".join(f"{t}={n}" for t, n in sorted(counts.items())))
