"""Adds to a store of objects (`file:///path`) an older release like the
live one, in which a seventh of each school's files are objects of their
own, as in a release three school days old (a city's school day renders
268,313 of 1.8 million files): what a steady night's collection removes.

    python3 bench/older-release.py STORE ID SEED HOURS_AGO
    python3 bench/older-release.py /srv/obj 20261123T010000Z-000001 1 72
"""
import json, os, sys, random, hashlib, brotli, time
root, fid, seed, age = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
rnd = random.Random(seed)
live = open(os.path.join(root, "current")).read().strip()
src = os.path.join(root, "releases", live)
m = json.load(open(os.path.join(src, "manifest.json")))
dst = os.path.join(root, "releases", fid)
os.makedirs(os.path.join(dst, "manifests"), exist_ok=True)
then = time.time() - age * 3600
n = 0
for p in m["schools"]:
    part = json.loads(brotli.decompress(open(os.path.join(src, p["manifest"]), "rb").read()))
    for e in part["files"]:
        if rnd.random() < 0.148:
            data = rnd.randbytes(min(e["size"], 4096))
            sha = hashlib.sha256(data).hexdigest()
            o = os.path.join(root, "objects", sha[:2], sha)
            with open(o, "wb") as f:
                f.write(data)
            os.utime(o, (then, then))
            e["sha256"] = sha; e["size"] = len(data)
            n += 1
    b = brotli.compress(json.dumps(part, ensure_ascii=False, separators=(",", ":")).encode(), quality=1)
    open(os.path.join(dst, p["manifest"]), "wb").write(b)
    p["sha256"] = hashlib.sha256(b).hexdigest()
mp = os.path.join(dst, "manifest.json")
json.dump(m, open(mp, "w"), indent=2, ensure_ascii=False)
for dp, dn, fn in os.walk(dst):
    for f in fn:
        os.utime(os.path.join(dp, f), (then, then))
print(fid, n, "objects of its own")
