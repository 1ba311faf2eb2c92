#!/usr/bin/env python3
"""Checks fixture sets made by scripts/make-fixtures before the tests rely on them.

  check-fixtures.py SET_DIR [--arch x86|x64] [--phases 1,2] [--kinds windump,heap]

For each phase: the runtime's own heap walk (phaseN.reference.json) has every count DumpLab
itself reports (phaseN.expected.json: exact_type_counts equal, at_least_type_counts at least);
phaseN.graph.json.zst has nodes, edges (as many as the nodes' edge counts add up to), roots
and statics; every dump the set should have is there and the generator found every reference
object at its address with its MethodTable in it. With --arch, each Windows minidump's
SystemInfo must name that processor (x86: ProcessorArchitecture 0, 4-byte pointers) and the
reference must have been read with that pointer size. A zoo set (`…-zoo`) must describe its
exhibits (phaseN.expected.json "zoo"); a leak zoo set (`…-leaks`) its planted leaks ("leaks"),
each pattern's type counts as the runtime's walk has them. Standard library only (the graph is
read through the zstd command). Prints one line per phase; exits 1 on the first failure.
"""
import argparse
import json
import os
import struct
import subprocess
import sys

ARCH = {"x86": (0, 4), "x64": (9, 8)}   # ProcessorArchitecture, pointer size


def fail(msg):
    print("check-fixtures: FAILED: " + msg, file=sys.stderr)
    sys.exit(1)


def load(path):
    try:
        with open(path) as fh:
            return json.load(fh)
    except (OSError, ValueError) as e:
        fail("%s: %s" % (path, e))


def walk_name(full):
    """The runtime's walk names a nested type by its own name: A+B[X] -> B[X]."""
    i = full.find("[")
    head = full if i < 0 else full[:i]
    j = head.rfind("+")
    return full if j < 0 else full[j + 1:]


def minidump_arch(path):
    """ProcessorArchitecture from a zstd-compressed minidump's SystemInfo stream (the header,
    the stream directory and SystemInfo sit in its first megabyte)."""
    z = subprocess.Popen(["zstd", "-dc", "--long=27", path], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    head = z.stdout.read(1 << 20)
    z.kill()
    z.wait()
    if head[:4] != b"MDMP":
        fail("%s: not a minidump" % path)
    n, rva = struct.unpack_from("<II", head, 8)
    for i in range(n):
        t, size, srva = struct.unpack_from("<III", head, rva + 12 * i)
        if t == 7:   # SystemInfoStream
            return struct.unpack_from("<H", head, srva)[0]
    fail("%s: no SystemInfo stream" % path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--arch", choices=sorted(ARCH))
    ap.add_argument("--phases", default="1,2")
    ap.add_argument("--kinds", default="", help="dump kinds every phase must have (default: the manifest's)")
    a = ap.parse_args()
    d = a.dir
    name = os.path.basename(os.path.normpath(d))
    m = load(os.path.join(d, "manifest.json"))
    kinds = [k for k in a.kinds.split(",") if k] or m.get("kinds") or []
    for phase in [int(p) for p in a.phases.split(",") if p]:
        ph = m.get("phases", {}).get(str(phase))
        if ph is None:
            fail("%s: phase %d missing from manifest.json" % (name, phase))
        ref = load(os.path.join(d, "phase%d.reference.json" % phase))
        exp = load(os.path.join(d, "phase%d.expected.json" % phase))
        got = {r["type"]: r["count"] for r in ref["dumpheap_stat"]}
        for t, n in exp["exact_type_counts"].items():
            if got.get(t, 0) != n:
                fail("%s phase %d: %s: the runtime counted %s, DumpLab made %d" % (name, phase, t, got.get(t, 0), n))
        for t, n in exp.get("at_least_type_counts", {}).items():
            if got.get(t, 0) < n:
                fail("%s phase %d: %s: the runtime counted %s, DumpLab made at least %d" % (name, phase, t, got.get(t, 0), n))
        if name.endswith("-zoo") and not (exp.get("zoo") or {}).get("values"):
            fail("%s phase %d: expected.json has no zoo (DUMPLAB_ZOO was not seen)" % (name, phase))
        if name.endswith("-leaks"):
            leaks = (exp.get("leaks") or {}).get("patterns") or {}
            if not leaks or (exp["leaks"].get("phase") != phase):
                fail("%s phase %d: expected.json has no leaks of this phase (DUMPLAB_LEAKS was not seen)" % (name, phase))
            for pname, pat in sorted(leaks.items()):
                if not pat.get("present"):
                    continue
                for t, n in pat.get("exact_type_counts", {}).items():
                    g = got.get(t, got.get(walk_name(t), 0))
                    if g != n:
                        fail("%s phase %d: leak %s: %s: the runtime counted %s, DumpLab planted %d" % (name, phase, pname, t, g, n))
                for t, n in pat.get("at_least_type_counts", {}).items():
                    g = got.get(t, got.get(walk_name(t), 0))
                    if g < n:
                        fail("%s phase %d: leak %s: %s: the runtime counted %s, DumpLab planted at least %d" % (name, phase, pname, t, g, n))
        g = json.loads(subprocess.run(["zstd", "-dc", os.path.join(d, "phase%d.graph.json.zst" % phase)],
                                      stdout=subprocess.PIPE, check=True).stdout)
        for key in ("nodes", "edges", "roots", "statics", "types"):
            if not g.get(key):
                fail("%s phase %d: graph.json has no %s" % (name, phase, key))
        if sum(n[3] for n in g["nodes"]) != len(g["edges"]):
            fail("%s phase %d: graph.json's edge counts add up to %d, it has %d edges"
                 % (name, phase, sum(n[3] for n in g["nodes"]), len(g["edges"])))
        if len(g["nodes"]) != ref["object_count"]:
            fail("%s phase %d: graph.json has %d nodes, reference.json %d objects"
                 % (name, phase, len(g["nodes"]), ref["object_count"]))
        if a.arch and ref.get("pointer_size") != ARCH[a.arch][1]:
            fail("%s phase %d: the reference was read with pointer size %s, not %d"
                 % (name, phase, ref.get("pointer_size"), ARCH[a.arch][1]))
        for kind in kinds:
            dump = ph["dumps"].get(kind)
            if dump is None or "error" in dump:
                fail("%s phase %d: no %s dump (%s)" % (name, phase, kind, (dump or {}).get("error", "missing")))
            v = dump.get("reference_objects_in_dump") or {}
            if v.get("objects") != len(g["nodes"]) or v.get("mt_mismatch") or v.get("not_in_dump"):
                fail("%s phase %d %s: reference objects not all found in the dump: %s" % (name, phase, kind, v))
            h = dump.get("handle_arrays_in_dump") or {}
            if h.get("changed"):
                fail("%s phase %d %s: the runtime wrote statics between its walk and the dump: %s" % (name, phase, kind, h))
            files = [f for f in os.listdir(d) if f.startswith("phase%d.%s." % (phase, kind))]
            if not files:
                fail("%s phase %d: no phase%d.%s.* file" % (name, phase, phase, kind))
            if a.arch and files[0].endswith(".dmp.zst"):
                arch = minidump_arch(os.path.join(d, files[0]))
                if arch != ARCH[a.arch][0]:
                    fail("%s: %s: ProcessorArchitecture %d, not %s" % (name, files[0], arch, a.arch))
        print("check-fixtures: %s phase %d: %d objects, %d edges, %d roots, %d statics, %d types; "
              "exact counts of %d types as DumpLab made them; dumps %s"
              % (name, phase, len(g["nodes"]), len(g["edges"]), len(g["roots"]), len(g["statics"]),
                 len(g["types"]), len(exp["exact_type_counts"]), ", ".join(kinds)))


if __name__ == "__main__":
    main()
