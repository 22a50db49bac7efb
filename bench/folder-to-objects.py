"""The live release of a folder output as a store of objects on the same
disk (`--output file:///path`), by hard links: each file under the
SHA-256 its manifest gives, the release's manifests copied, `current`
written. Nothing is read but the manifests, so a city's 1.8 million files
take a minute, not the night of a full build.

    python3 -m pip install brotli
    python3 bench/folder-to-objects.py OUTPUT STORE     # both on one file system
"""
import json, os, sys, brotli
src, dst = sys.argv[1], sys.argv[2]   # src: output folder; dst: store root
rid = os.path.basename(os.path.realpath(os.path.join(src, "current")))
rel = os.path.join(src, "releases", rid)
m = json.load(open(os.path.join(rel, "manifest.json")))
os.makedirs(os.path.join(dst, "releases", rid, "manifests"), exist_ok=True)
for d in range(256):
    os.makedirs(os.path.join(dst, "objects", "%02x" % d), exist_ok=True)
n = 0
def link(entries):
    global n
    for e in entries:
        o = os.path.join(dst, "objects", e["sha256"][:2], e["sha256"])
        if not os.path.exists(o):
            os.link(os.path.join(rel, e["path"]), o)
            n += 1
link(m["files"])
for p in m["schools"]:
    b = open(os.path.join(rel, p["manifest"]), "rb").read()
    open(os.path.join(dst, "releases", rid, p["manifest"]), "wb").write(b)
    link(json.loads(brotli.decompress(b))["files"])
import shutil
shutil.copy(os.path.join(rel, "manifest.json"), os.path.join(dst, "releases", rid, "manifest.json"))
open(os.path.join(dst, "current"), "w").write(rid + "\n")
print(rid, n, "objects")
