#!/usr/bin/python3
"""
What an idle session costs, item by item: reads what tests/bench/sessmem.sh
collected and writes the tables of docs/BENCHMARKS.md ("What a session
costs").

    sessmem.py --massif-sessions N --rss-sessions N RAWDIR OUTDIR

From RAWDIR:
  massif.{c2s,router}.{base,idle}  massif detailed snapshots before the
      sessions and once they are quiet; the live bytes of the difference
      are grouped by allocation site (RULES) and divided by the sessions
  massif.*.maps  where the libraries were mapped (to name frames inside
      the stripped GnuTLS: LibNamer)
  rss.*  smaps_rollup, malloc_stats() and malloc_info() output, ss -tm,
      /proc/slabinfo and /proc/net/sockstat at the same two moments of a
      run without valgrind, and smaps_rollup after malloc_trim(0)
  structs.*  gdb's ptype /o of the session structures

Writes OUTDIR/sessmem.md (the tables), OUTDIR/sessmem.jsonl (one JSON
object per figure: process, item, bytes per session) and
OUTDIR/sites-{c2s,router}.txt (every allocation site of the difference,
with its stack, largest first).
"""
import argparse
import bisect
import json
import os
import re
import subprocess
import sys

# ---- massif snapshots -----------------------------------------------------

NODE = re.compile(r"^( *)n(\d+): (\d+) (.*)$")


def read_massif(path, namer=None):
    """{stack tuple (innermost first): bytes}, heap bytes, extra bytes"""
    stack, leaves, head = [], {}, {}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            m = re.match(r"^(mem_heap_B|mem_heap_extra_B)=(\d+)$", line)
            if m:
                head[m.group(1)] = int(m.group(2))
                continue
            m = NODE.match(line)
            if not m:
                continue
            depth, kids, size = len(m.group(1)), int(m.group(2)), \
                int(m.group(3))
            del stack[depth:]
            stack.append(m.group(4))
            if kids == 0:
                key = tuple(frame(s, namer) for s in stack[1:])
                leaves[key] = leaves.get(key, 0) + size
    return leaves, head.get("mem_heap_B", 0), head.get("mem_heap_extra_B", 0)


def frame(loc, namer=None):
    """'0x1: fn (file.c:12)' -> ('fn', 'file.c:12'); libraries by name"""
    m = re.match(r"^(?:0x([0-9A-Fa-f]+): )?(.*?)(?: \((.*)\))?$", loc)
    addr, fn, where = m.group(1), m.group(2), m.group(3) or ""
    if where.startswith("in "):
        where = os.path.basename(where[3:]).split(".so")[0]
        if fn == "???" and addr and namer is not None:
            fn = namer(int(addr, 16), where) or fn
    if fn.startswith("in ") and "places" in fn:
        fn = "(below threshold)"
    return (fn, where)


# ---- naming frames inside stripped libraries -----------------------------

class LibNamer:
    """
    Names addresses inside a stripped library (GnuTLS has no debug
    symbols here) from the strings its code refers to: gnutls_assert()
    passes __FILE__ and __func__, so most functions name themselves and
    their source file. Function starts are call targets, exported
    symbols and function pointers (relative relocations into .text).
    A guess, marked "~": the listing shows the address too.
    """

    def __init__(self, path):
        self.path, self.ok = path, False
        try:
            dis = subprocess.run(["objdump", "-d", "--no-show-raw-insn",
                                  path], capture_output=True, text=True,
                                 check=True).stdout
            rel = subprocess.run(["readelf", "-rW", path],
                                 capture_output=True, text=True,
                                 check=True).stdout
            dyn = subprocess.run(["nm", "-D", "--defined-only", path],
                                 capture_output=True, text=True,
                                 check=True).stdout
            with open(path, "rb") as f:
                self.data = f.read()
        except (OSError, subprocess.CalledProcessError):
            return
        self.ins, starts, self.syms = [], set(), {}
        for line in dis.splitlines():
            m = re.match(r"^\s+([0-9a-f]+):\s+(.*)$", line)
            if not m:
                continue
            self.ins.append((int(m.group(1), 16), m.group(2)))
            c = re.search(r"\bcall\s+([0-9a-f]+) <", m.group(2))
            if c:
                starts.add(int(c.group(1), 16))
        lo, hi = self.ins[0][0], self.ins[-1][0]
        for line in rel.splitlines():
            m = re.search(r"R_X86_64_RELATIVE\s+([0-9a-f]+)$", line)
            if m and lo <= int(m.group(1), 16) <= hi:
                starts.add(int(m.group(1), 16))
        for line in dyn.splitlines():
            p = line.split()
            if len(p) == 3 and p[1] in "Tt":
                a = int(p[0], 16)
                starts.add(a)
                self.syms[a] = p[2].split("@")[0]
        self.starts = sorted(starts)
        self.addrs = [a for a, _ in self.ins]
        self.ok = True

    def _string(self, off):
        end = self.data.find(b"\0", off)
        try:
            s = self.data[off:end].decode()
        except UnicodeDecodeError:
            return None
        return s if 2 <= len(s) < 100 and s.isprintable() else None

    def name(self, off):
        if not self.ok:
            return None
        i = bisect.bisect_right(self.starts, off) - 1
        if i < 0:
            return None
        start = self.starts[i]
        end = self.starts[i + 1] if i + 1 < len(self.starts) else off + 1
        if start in self.syms:
            return self.syms[start]
        names, files = {}, []
        j = bisect.bisect_left(self.addrs, start)
        while j < len(self.ins) and self.ins[j][0] < end:
            m = re.search(r"lea\s.*#\s+([0-9a-f]+)", self.ins[j][1])
            j += 1
            if not m:
                continue
            s = self._string(int(m.group(1), 16))
            if s is None:
                continue
            if s.endswith(".c"):
                files.append(s)
            elif re.match(r"^_?[a-z][a-z0-9]*_[a-z0-9_]+$", s):
                names[s] = names.get(s, 0) + 1
        fn = max(names, key=lambda k: names[k]) if names else None
        src = re.sub(r"^(\.\./)+(lib/)?", "", files[0]) if files else None
        if fn is None and src is None:
            return None
        return "~%s (%s)" % (fn or "?", src or "?")


def read_maps(path):
    """[(start, end, file offset, path)] of the file mappings"""
    out = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                p = line.split()
                if len(p) >= 6 and p[5].startswith("/"):
                    a, b = (int(x, 16) for x in p[0].split("-"))
                    out.append((a, b, int(p[2], 16), p[5]))
    return out


class Namer:
    """names '???' frames of one process from its /proc/PID/maps"""

    def __init__(self, maps, libs):
        self.maps, self.libs, self.cache = maps, libs, {}

    def __call__(self, addr, lib):
        if not lib.startswith(self.libs):
            return None
        for a, b, off, path in self.maps:
            if a <= addr < b and os.path.basename(path).startswith(lib):
                if path not in self.cache:
                    self.cache[path] = LibNamer(path)
                return self.cache[path].name(addr - a + off)
        return None


# allocator wrappers: skipped when looking for the site's owner
WRAPPERS = {
    "malloc", "calloc", "realloc", "xmalloc", "xcalloc", "xrealloc",
    "xstrdup", "xstrndup", "xasprintf", "__vasprintf_internal", "vasprintf",
    "asprintf", "strdup", "strndup", "buf_reserve", "buf_append",
    "buf_puts", "buf_printf", "buf_vprintf",
}
STRINGS = {"xstrdup", "xstrndup", "xasprintf", "__vasprintf_internal",
           "vasprintf", "asprintf", "strdup", "strndup"}
TLS_LIBS = ("libgnutls", "libnettle", "libhogweed", "libtasn1", "libgmp",
            "libp11-kit", "libidn2", "libunistring")


# what GnuTLS keeps, by the innermost named frame (LibNamer's guesses)
TLS_KNOWN = [
    (r"mutex|threads\.c", "TLS: two mutexes (gnutls_init)"),
    (r"^gnutls_init$", "TLS: struct gnutls_session_int (gnutls_init)"),
    (r"^gnutls_credentials_set$", "TLS: credentials list entry"),
    (r"aes.gcm|cipher_init", "TLS: traffic cipher contexts (AES-GCM, one "
     "per direction)"),
    (r"epoch", "TLS: record parameters of the traffic epoch (keys, IVs, "
     "sequence numbers)"),
    (r"ext/signature\.c", "TLS: the client's signature_algorithms list "
     "(hello extension data)"),
    (r"safe_renegotiation", "TLS: safe renegotiation data (hello "
     "extension data)"),
    (r"server_name|hello_ext_set_datum", "TLS: the SNI name the client "
     "sent (hello extension data)"),
]


def tls_item(stack):
    """(item, site): what GnuTLS keeps, and the entry point it came by"""
    entry, names = None, []
    for fn, where in stack:
        if where.startswith(TLS_LIBS):
            if fn != "???":
                names.append(fn.lstrip("~").split(" (")[0] + (
                    " (" + fn.split(" (")[1] if " (" in fn else ""))
            if fn.startswith("gnutls_"):
                entry = fn
        elif entry is not None:
            break
    site = " <- ".join(names[:3]) or "?"
    for rx, item in TLS_KNOWN:
        if names and re.search(rx, names[0]):
            return item, site
    for rx, item in TLS_KNOWN:
        if any(re.search(rx, n) for n in names):
            return item, site
    if entry in ("gnutls_init", "gnutls_priority_set",
                 "gnutls_credentials_set"):
        return "TLS: other, from gnutls_init", site
    if entry == "gnutls_handshake":
        return "TLS: other, kept from the handshake", site
    if entry is not None and entry.startswith(("gnutls_record_",
                                                "gnutls_bye")):
        return "TLS: record layer", site
    return "TLS: library, process-wide", site


# (function name regex, item): innermost owner first, wrappers skipped
RULES = [
    # c2s
    (r"^stream_(write|puts|send_element)$", "stream output buffer (st->out)"),
    (r"^stream_hold$", "held stanzas (st->held)"),
    (r"^xstream_new$", "struct xstream"),
    (r"^(xs_nsdecl|xs_header_qname|xs_free_decls)$",
     "xstream: saved header (declarations, name)"),
    (r"^arena_", "arena (stanza trees)"),
    (r"^xs_", "xstream: text and hold buffers"),
    (r"^stream_accept$", "struct stream"),
    (r"^sasl_", "SASL state"),
    (r"^(limits_|peer_)", "per-address counters (limits.c)"),
    (r"^(stream_check_header|stream_on_open|auth_|bind_|register_)",
     "session strings (domain, node, JID, lang)"),
    # router
    (r"^(jid_|sess_begin$)", "sess/user structs and JID strings"),
    (r"^(pres_|presence_)", "last available presence (s->presence)"),
    (r"^(roster_|offline_|blocking_|store_)", "roster, offline, blocks"),
    # both
    (r"^map_", "hash tables (slots, key copies)"),
    (r"^(link_|uplink_|c2s_frame|auth_get)", "link buffers, process-wide"),
]


def classify(stack):
    """(item, site) of one allocation stack, innermost frame first"""
    owner, site, string = None, None, False
    for fn, where in stack:
        if fn == "xparse_one" or fn == "xparse_new":
            return "stanza parser, process-wide", "xparse"
    for fn, where in stack:
        if where.startswith(TLS_LIBS):
            return tls_item(stack)
        if fn in WRAPPERS:
            string = string or fn in STRINGS
            continue
        if where.startswith("libexpat") or fn.startswith("XML_"):
            return "expat parsers", fn_site(stack)
        if where.startswith("libev"):
            return "libev tables (per fd)", fn_site(stack)
        if where.startswith("liblmdb"):
            return "LMDB (heap)", fn_site(stack)
        owner = fn
        site = "%s (%s)" % (fn, where)
        break
    if owner is None:
        return "other", fn_site(stack)
    for rx, item in RULES:
        if re.search(rx, owner):
            if item == "sess/user structs and JID strings":
                item = ("JID strings (full, bare, node, domain)" if string
                        or owner.startswith("jid_") else
                        "struct sess, struct user")
            return item, site
    return "other", site


def fn_site(stack):
    """the first frame that is ours (has a file:line), for the listing"""
    for fn, where in stack:
        if re.search(r"\.c:\d+$", where) and fn not in WRAPPERS:
            return "%s (%s)" % (fn, where)
    return "%s (%s)" % stack[0] if stack else "?"


def massif_diff(raw, proc, n):
    base = os.path.join(raw, "massif.%s.base" % proc)
    idle = os.path.join(raw, "massif.%s.idle" % proc)
    if not (os.path.exists(base) and os.path.exists(idle)):
        return None
    namer = Namer(read_maps(os.path.join(raw, "massif.%s.maps" % proc)),
                  TLS_LIBS)
    a, ha, xa = read_massif(base, namer)
    b, hb, xb = read_massif(idle, namer)
    items, sites = {}, {}
    for key in set(a) | set(b):
        d = b.get(key, 0) - a.get(key, 0)
        if d == 0:
            continue
        item, site = classify(key)
        items[item] = items.get(item, 0) + d
        s = sites.setdefault((item, site), [0, key])
        s[0] += d
    return {
        "n": n, "items": items, "sites": sites,
        "heap": hb - ha, "extra": xb - xa,
    }


# ---- smaps, malloc_stats, kernel ----------------------------------------

def read_kv(path, rx=r"^([A-Za-z_]+):\s+(\d+) kB"):
    out = {}
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            m = re.match(rx, line)
            if m:
                out[m.group(1)] = int(m.group(2)) * 1024
    return out


def read_malloc(path):
    """malloc_stats(): arena system/in use, and the totals with mmap"""
    if not os.path.exists(path):
        return None
    sysb, use = [], []
    with open(path) as f:
        for line in f:
            m = re.match(r"^system bytes\s*=\s*(\d+)", line)
            if m:
                sysb.append(int(m.group(1)))
            m = re.match(r"^in use bytes\s*=\s*(\d+)", line)
            if m:
                use.append(int(m.group(1)))
    if len(sysb) < 2 or len(use) < 2:
        return None
    # the last pair is "Total (incl. mmap)"
    return {"arena_system": sum(sysb[:-1]), "arena_inuse": sum(use[:-1]),
            "system": sysb[-1], "inuse": use[-1]}


def read_mallinfo(path):
    """
    malloc_info() XML: free chunks in the bins by size class, the unsorted
    bin (chunks freed since the last malloc that sorted it) and the rest
    (the top chunk)
    """
    if not os.path.exists(path):
        return None
    with open(path) as f:
        xml = f.read()
    classes = [(256, "under 256 B"), (1024, "256 B-1 KiB"),
               (4096, "1-4 KiB"), (16384, "4-16 KiB"),
               (1 << 62, "16 KiB and more")]
    out = {label: [0, 0] for _, label in classes}
    unsorted, listed = [0, 0], 0
    for heap in re.findall(r"<heap nr=.*?</heap>", xml, re.S):
        for kind, fr, tot, cnt in re.findall(
                r'<(size|unsorted) from="(\d+)" to="\d+" total="(\d+)" '
                r'count="(\d+)"/>', heap):
            listed += int(tot)
            if kind == "unsorted":
                unsorted[0] += int(tot)
                unsorted[1] += int(cnt)
                continue
            for lim, label in classes:
                if int(fr) < lim:
                    out[label][0] += int(tot)
                    out[label][1] += int(cnt)
                    break
    rest = sum(int(x) for x in re.findall(
        r'^<total type="(?:fast|rest)" count="\d+" size="(\d+)"/>',
        xml.split("</heap>")[-1], re.M))
    return out, unsorted, max(rest - listed, 0)


def read_slab(path):
    out = {}
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) < 6 or not p[1].isdigit():
                continue
            # name active num objsize objperslab pagesperslab
            out[p[0]] = (int(p[1]), int(p[3]), int(p[4]), int(p[5]))
    return out


def read_ss(path):
    n, tot = 0, {}
    if not os.path.exists(path):
        return 0, tot
    with open(path) as f:
        for line in f:
            m = re.search(r"skmem:\((.*?)\)", line)
            if not m:
                continue
            n += 1
            for kv in m.group(1).split(","):
                k = re.match(r"([a-z]+)(\d+)", kv)
                if k:
                    tot[k.group(1)] = tot.get(k.group(1), 0) + \
                        int(k.group(2))
    return n, tot


def read_sockstat(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        for line in f:
            m = re.match(r"^TCP: inuse (\d+) .* mem (\d+)", line)
            if m:
                return int(m.group(1)), int(m.group(2))
    return None


# ---- struct layouts ---------------------------------------------------------

def read_structs(path):
    """{struct name: (size, [(field, type, size)], hole bytes)}"""
    out = {}
    if not os.path.exists(path):
        return out
    cur, depth, fields, holes, name = None, 0, [], 0, None
    with open(path) as f:
        for line in f:
            m = re.match(r"^/\* offset.*type = struct (\w+) \{", line)
            if m:
                name, depth, fields, holes = m.group(1), 1, [], 0
                continue
            if name is None:
                continue
            m = re.match(r"^/\* XXX\s+(\d+)-byte (hole|padding)", line)
            if m and depth == 1:
                holes += int(m.group(1))
                continue
            m = re.match(r"^/\*\s+\d+\s+\|\s+(\d+) \*/\s+(.*)$", line)
            if m:
                size, decl = int(m.group(1)), m.group(2).strip()
                if depth == 1:
                    if decl.endswith("{"):
                        fields.append([None, decl[:-1].strip(), size])
                    else:
                        fm = re.match(r"^(.*?)\s*\*?(\w+)(\[\d+\])?;$", decl)
                        fields.append([fm.group(2) if fm else decl,
                                       decl, size])
                if decl.endswith("{"):
                    depth += 1
                continue
            m = re.match(r"^\s*\} (\w+);", line)
            if m:
                depth -= 1
                if depth == 1 and fields and fields[-1][0] is None:
                    fields[-1][0] = m.group(1)
                continue
            m = re.match(r"^\s*/\* total size \(bytes\):\s+(\d+) \*/", line)
            if m and depth == 1:
                out[name] = (int(m.group(1)), fields, holes)
                name = None
    return out


def field_kind(decl):
    if re.match(r"^ev_(io|timer|prepare|signal)\b", decl):
        return "libev watchers"
    if decl.startswith("struct buf"):
        return "struct buf headers"
    if decl.startswith("struct arena"):
        return "arena header"
    if re.match(r"^char \w+\[\d+\]", decl):
        return "inline strings"
    if re.search(r"\[\d+\]", decl):
        return "arrays"
    if "*" in decl or re.match(r"^(XML_Parser|gnutls_session_t) ", decl):
        return "pointers"
    return "scalars and flags"


def struct_summary(name, st):
    size, fields, holes = st
    kinds = {}
    for fname, decl, fsize in fields:
        k = field_kind(decl)
        kinds.setdefault(k, [0, []])
        kinds[k][0] += fsize
        kinds[k][1].append(fname)
    parts = []
    for k, (b, names) in sorted(kinds.items(), key=lambda x: -x[1][0]):
        shown = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
        parts.append("%s %d (%s)" % (k, b, shown))
    if holes:
        parts.append("holes and padding %d" % holes)
    return "`struct %s` %d B: %s" % (name, size, "; ".join(parts))


# ---- output ---------------------------------------------------------------

def fmt(v):
    return "%.0f" % v if abs(v) >= 10 else "%.1f" % v


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--massif-sessions", type=int, required=True)
    ap.add_argument("--rss-sessions", type=int, required=True)
    ap.add_argument("raw")
    ap.add_argument("out")
    a = ap.parse_args()
    raw, out = a.raw, a.out
    os.makedirs(out, exist_ok=True)
    md, js = [], []

    def emit(proc, item, value, unit="B/session"):
        js.append({"process": proc, "item": item, "value": round(value, 1),
                   "unit": unit})

    nm, nr = a.massif_sessions, a.rss_sessions
    massif = {p: massif_diff(raw, p, nm) for p in ("c2s", "router")}
    if any(massif.values()):
        md.append("Live heap per idle session, by owner (massif, %d "
                  "sessions, once quiet):" % nm)
        md.append("")
        md.append("| process | item | bytes/session |")
        md.append("|---|---|---|")
        for p in ("c2s", "router"):
            m = massif[p]
            if m is None:
                continue
            tls = 0
            for item, b in sorted(m["items"].items(), key=lambda x: -x[1]):
                if item.startswith("TLS"):
                    tls += b
                if abs(b) / nm < 0.5:
                    continue
                md.append("| %s | %s | %s |" % (p, item, fmt(b / nm)))
                emit(p, item, b / nm)
            if tls:
                md.append("| %s | *of which GnuTLS (TLS: rows)* | *%s* |" %
                          (p, fmt(tls / nm)))
                emit(p, "GnuTLS subtotal", tls / nm)
            if p == "c2s" and m["items"].get("expat parsers", 0) < nm:
                md.append("| c2s | expat parsers (none left: every "
                          "session hibernated) | 0 |")
            md.append("| %s | allocator overhead (massif: 8 B per block, "
                      "16-byte rounding) | %s |" % (p, fmt(m["extra"] / nm)))
            emit(p, "allocator overhead (massif estimate)", m["extra"] / nm)
            md.append("| %s | **heap in use, total** | **%s** |" %
                      (p, fmt((m["heap"] + m["extra"]) / nm)))
            emit(p, "heap in use (massif)", (m["heap"] + m["extra"]) / nm)
            with open(os.path.join(out, "sites-%s.txt" % p), "w") as f:
                for (item, site), (b, key) in sorted(
                        m["sites"].items(), key=lambda x: -abs(x[1][0])):
                    f.write("%10.1f B/session  %-44s %s\n" %
                            (b / nm, item, site))
                    for fn, where in key[:14]:
                        f.write("%33s%s (%s)\n" % ("", fn, where))
        md.append("")

    # the run without valgrind
    procs = [("parley-c2s", "c2s"), ("parley-router", "router"),
             ("parley-s2s", "s2s"), ("parleyd", "parleyd")]
    rows = []
    for comm, short in procs:
        b = read_kv(os.path.join(raw, "rss.%s.base.smaps" % comm))
        i = read_kv(os.path.join(raw, "rss.%s.idle.smaps" % comm))
        if not b or not i:
            continue
        t = read_kv(os.path.join(raw, "rss.%s.trim.smaps" % comm))
        mb = read_malloc(os.path.join(raw, "rss.%s.base.malloc" % comm))
        mi = read_malloc(os.path.join(raw, "rss.%s.idle.malloc" % comm))
        rows.append((short, b, i, t, mb, mi))
    if rows:
        md.append("Without valgrind, %d sessions, per session (RSS is "
                  "anonymous + file-backed; malloc figures from glibc's "
                  "malloc_stats(), mmapped blocks included):" % nr)
        md.append("")
        md.append("| process | RSS | anonymous | file-backed | malloc in "
                  "use | malloc from the system | free, kept by malloc "
                  "| RSS after malloc_trim(0) |")
        md.append("|---|---|---|---|---|---|---|---|")
        tot = tot_trim = 0
        for short, b, i, t, mb, mi in rows:
            d = {k: (i.get(k, 0) - b.get(k, 0)) / nr for k in
                 ("Rss", "Anonymous")}
            d["File"] = d["Rss"] - d["Anonymous"]
            tot += d["Rss"]
            cells = [fmt(d["Rss"]), fmt(d["Anonymous"]), fmt(d["File"])]
            emit(short, "RSS", d["Rss"])
            emit(short, "RSS anonymous", d["Anonymous"])
            emit(short, "RSS file-backed", d["File"])
            if mb and mi:
                inuse = (mi["inuse"] - mb["inuse"]) / nr
                sysb = (mi["system"] - mb["system"]) / nr
                cells += [fmt(inuse), fmt(sysb), fmt(sysb - inuse)]
                emit(short, "malloc in use", inuse)
                emit(short, "malloc from the system", sysb)
                emit(short, "free, kept by malloc", sysb - inuse)
            else:
                cells += ["–", "–", "–"]
            if t:
                tr = (t.get("Rss", 0) - b.get("Rss", 0)) / nr
                tot_trim += tr
                cells.append(fmt(tr))
                emit(short, "RSS after malloc_trim", tr)
            else:
                tot_trim += d["Rss"]
                cells.append("–")
            md.append("| %s | %s |" % (short, " | ".join(cells)))
        md.append("| all | %s | | | | | | %s |" % (fmt(tot), fmt(tot_trim)))
        emit("all", "RSS", tot)
        emit("all", "RSS after malloc_trim", tot_trim)
        md.append("")
        mi = read_mallinfo(os.path.join(raw,
                                        "rss.parley-c2s.idle.mallinfo.xml"))
        if mi:
            cls, uns, top = mi
            parts = ["%s %.1f MiB (%d chunks)" % (k, v[0] / 1048576.0,
                                                   v[1])
                     for k, v in cls.items() if v[1]]
            md.append("Free memory the c2s's malloc keeps at that moment "
                      "(malloc_info()): %.1f MiB in %d chunks in the "
                      "unsorted bin (freed after the last allocations that "
                      "sorted it: mostly the parsers hibernation freed in "
                      "the quiet time); in "
                      "the bins by chunk size: %s; top chunk %.1f MiB." % (
                          uns[0] / 1048576.0, uns[1], "; ".join(parts),
                          top / 1048576.0))
            emit("c2s", "free in the unsorted bin", uns[0] / nr)
            md.append("")

    # the kernel side
    n, sk = read_ss(os.path.join(raw, "rss.ss.idle"))
    slab = read_slab(os.path.join(raw, "rss.slabinfo.idle"))
    slab0 = read_slab(os.path.join(raw, "rss.slabinfo.base"))
    if n or slab:
        md.append("Kernel memory of a server socket (not in any RSS):")
        md.append("")
        md.append("| item | bytes/socket |")
        md.append("|---|---|")
        if n:
            for k, what in (("r", "receive queue (rmem_alloc)"),
                            ("t", "send queue (wmem_alloc)"),
                            ("f", "forward-allocated reserve"),
                            ("o", "options (optmem)")):
                md.append("| socket buffers: %s, mean of %d sockets | %s |"
                          % (what, n, fmt(sk.get(k, 0) / n)))
                emit("kernel", "skmem " + k, sk.get(k, 0) / n,
                     "B/socket")
        objs = 0
        for cache, what in (("TCP", "struct tcp_sock"),
                            ("sock_inode_cache", "socket inode"),
                            ("filp", "struct file"),
                            ("dentry", "dentry"),
                            ("eventpoll_epi", "epoll item"),
                            ("eventpoll_pwq", "epoll wait queue entry")):
            if cache not in slab:
                continue
            _, osz, per, pages = slab[cache]
            eff = pages * 4096.0 / per
            objs += eff
            md.append("| %s (slab %s: %d B, %.0f with its share of the "
                      "slab) | %s |" % (what, cache, osz, eff, fmt(eff)))
            emit("kernel", "slab " + cache, eff, "B/socket")
        md.append("| **total per idle server socket** | **%s** |" %
                  fmt(objs + sum(sk.get(k, 0) for k in "rtfo") / max(n, 1)))
        emit("kernel", "total per socket",
             objs + sum(sk.get(k, 0) for k in "rtfo") / max(n, 1),
             "B/socket")
        if slab0:
            d = 0
            for cache in ("TCP", "sock_inode_cache", "filp", "dentry",
                          "eventpoll_epi", "eventpoll_pwq"):
                if cache in slab and cache in slab0:
                    d += (slab[cache][0] - slab0[cache][0]) * slab[cache][1]
            s0 = read_sockstat(os.path.join(raw, "rss.sockstat.base"))
            s1 = read_sockstat(os.path.join(raw, "rss.sockstat.idle"))
            note = ""
            if s0 and s1:
                note = ", TCP buffer pages (sockstat) %+.0f B" % (
                    (s1[1] - s0[1]) * 4096.0 / nr)
            md.append("")
            md.append("Cross-check, whole machine, per session (both ends "
                      "of each loopback connection, and anything else "
                      "running): slab objects above %+.0f B%s." %
                      (d / nr, note))
        md.append("")

    structs = {}
    for p in ("c2s", "router"):
        structs.update(read_structs(os.path.join(raw, "structs." + p)))
    if structs:
        md.append("Layouts (gdb ptype /o of this build):")
        md.append("")
        for name in ("stream", "xstream", "sess", "user", "map_slot"):
            if name in structs:
                md.append("* " + struct_summary(name, structs[name]))
        md.append("")

    with open(os.path.join(out, "sessmem.md"), "w") as f:
        f.write("\n".join(md))
    with open(os.path.join(out, "sessmem.jsonl"), "w") as f:
        for o in js:
            f.write(json.dumps(o) + "\n")
    sys.stdout.write("\n".join(md))
    return 0


if __name__ == "__main__":
    sys.exit(main())
