#!/usr/bin/env python3
"""Independent verifier for sealog logs, written from docs/FORMAT.md alone (§n cites its sections); standard library
plus the `openssl` (Ed25519) and `zstd` commands. tools/verify_test.go holds it to the Go verifier, verdict for verdict.
Usage: verify.py DIR [--key KEY] [--keys FILE] [--checkpoint FILE]... [--revocations FILE]... [--witness KEY]... [--all-signatures] [--json]"""
import argparse, base64, calendar, datetime, errno, functools, hashlib, json, os, pathlib, re, shutil, stat, subprocess, sys, tempfile

MAXLINE, MAXSEQ, MAXSIZE, MAXPROBLEMS = 4 << 20, (1 << 63) - 2, (1 << 63) - 1, 1000  # §3.1
MAXSMALL, MAXSIGS, SIGSIZE = 64 << 10, 100, 68  # §2, §6.1: sealog.json and checkpoints; §3.1: SIG decoded
SHA = lambda b: hashlib.sha256(b).digest()
HEAD = re.compile(rb'\{"seq":(0|[1-9][0-9]{0,19}),"time":"([^"]{30})","prev":"([0-9a-f]{64})')  # §3.1
TIME = re.compile(rb'([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})\.([0-9]{9})Z')
STR = rb'"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"'  # a JSON string, bytes from 0x80 as they are (§5)
ERASE = re.compile(rb'\{"kind":"sealog\.erase"(?:,"actor":' + STR + rb')?,"resource":"entry/(0|[1-9][0-9]{0,19})","payload":'
                   rb'\{"body_hash":"([0-9a-f]{64})","reason":' + STR + rb',"seq":(0|[1-9][0-9]{0,19})\}\}', re.S)
ROTATE = re.compile(rb'\{"kind":"sealog\.rotate","payload":\{"key":"([!#-\[\]-~]+)","prev":"([!#-\[\]-~]+)"\}\}')  # §5a
SEGMENT = re.compile(r'[0-9]{20}\.jsonl(\.zst)?')  # §1
PRUNE = re.compile(rb'\{"kind":"sealog\.prune","payload":\{"below":([1-9][0-9]{0,19}),"leaf":"([0-9a-f]{64})","root":"([0-9a-f]{64})"'
                   rb'(?:,"rotations":([1-9][0-9]{0,19}))?\}\}')  # §13.1
CREATED = re.compile(r'([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]{1,9})?(Z|[+-]([0-9]{2}):([0-9]{2}))')
B64 = re.compile(r'(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?')
SPACE = set('\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000') | {chr(c) for c in range(0x2000, 0x200b)}  # Unicode White_Space

class InputError(Exception):
    """An input that is not what it should be (exit 3)."""

def b64(s, n=None):
    """Strict standard base64 (RFC 4648 §4), canonical, of exactly n bytes if n is given; else None."""
    s = s.decode('latin-1') if isinstance(s, bytes) else s  # any non-ASCII byte then fails B64
    raw = base64.b64decode(s) if B64.fullmatch(s) else None
    return raw if raw is not None and base64.b64encode(raw).decode() == s and n in (None, len(raw)) else None

def valid_name(s):  # §2, §6.1: a key name (the origin): non-empty, no white space, no '+', no control character
    return bool(s) and not any(c in SPACE or c == '+' or ord(c) < 0x20 or c == '\x7f' for c in s)

def open_regular(path):
    """§1: a log's files are opened only if they are regular files: no symlink followed, no FIFO waited for."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as e:
        if e.errno in (errno.ELOOP, errno.ENXIO):  # a symlink; a socket
            raise InputError('%s is not a regular file' % path)
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise InputError('%s is not a regular file' % path)
    os.set_blocking(fd, True)
    return os.fdopen(fd, 'rb')

def read_small(path):
    with open_regular(path) as f:
        b = f.read(MAXSMALL + 1)
    if len(b) > MAXSMALL:
        raise InputError('%s is larger than %d bytes' % (path, MAXSMALL))
    return b

class Key:
    """§2, §6.1: a note verifier key <name>+<8 hex: keyhash>+<base64(0x01 ‖ Ed25519 public key)>."""

    def __init__(self, text):
        self.text = text.strip()
        parts = self.text.split('+', 2)  # the base64 may hold '+'; the name may not (§2)
        raw = b64(parts[2], 33) if len(parts) == 3 else None
        if not raw or raw[0] != 1 or not parts[0] or any(c in SPACE or c == '+' for c in parts[0]) or SHA(parts[0].encode() + b'\n' + raw)[:4].hex() != parts[1]:
            raise ValueError('not a note verifier key <name>+<keyhash>+<base64 key>, or a wrong keyhash: %r' % self.text)
        self.name, self.pub, self.hash = parts[0], raw[1:], bytes.fromhex(parts[1])  # keyhash: §6.1

    @functools.lru_cache(maxsize=256)
    def verify(self, msg, sig):
        """Ed25519 (RFC 8032) with openssl: True, False, or None when it could not be checked."""
        return ed25519_verify(self.pub, msg, sig[4:]) if len(sig) == SIGSIZE and sig[:4] == self.hash else False

@functools.lru_cache(maxsize=256)
def ed25519_verify(pub, msg, sig):
    """Ed25519 (RFC 8032) with openssl: True, False, or None when it could not be checked."""
    if not shutil.which('openssl'):
        return None
    spki = bytes.fromhex('302a300506032b6570032100') + pub  # DER SubjectPublicKeyInfo, as PEM:
    pem = b'-----BEGIN PUBLIC KEY-----\n%s\n-----END PUBLIC KEY-----\n' % base64.b64encode(spki)
    with tempfile.TemporaryDirectory() as d:
        for name, data in (('pub.pem', pem), ('msg', msg), ('sig', sig)):
            pathlib.Path(d, name).write_bytes(data)
        r = subprocess.run(['openssl', 'pkeyutl', '-verify', '-pubin', '-inkey', pathlib.Path(d, 'pub.pem'), '-rawin',
                            '-in', pathlib.Path(d, 'msg'), '-sigfile', pathlib.Path(d, 'sig')], capture_output=True)
    out = r.stdout + r.stderr  # True: verified; False: a bad signature; None: openssl itself failed
    return r.returncode == 0 and b'Verified Successfully' in out or (False if b'Failure' in out else None)

def parse_checkpoint(data, key, origin):
    """§6.1: a signed checkpoint → (size, root, ok) with ok True/False/None ('no signature' → False), or raises
    InputError('malformed …') / InputError('origin …')."""
    text, sigs = parse_note(data)
    own = [raw for name, raw in sigs if name == key.name and raw[:4] == key.hash]
    body = text.decode().split('\n')[:-1]  # origin, size, base64 root, extension lines
    if len(body) < 3 or not body[0] or not re.fullmatch('0|[1-9][0-9]*', body[1]) or int(body[1]) >= 1 << 64 \
            or not b64(body[2], 32) or '' in body[3:]:
        raise InputError('malformed: not a checkpoint (origin, size, root hash, extension lines)')
    if body[0] != origin:
        raise InputError('origin: a checkpoint of the log %r, not of %r' % (body[0], origin))
    if len(own) > 1:
        raise InputError('malformed: two signature lines by the key %s' % key.name)
    return int(body[1]), b64(body[2], 32), key.verify(text, own[0]) if own else False

def parse_note(data):
    """C2SP signed-note: (text, [(key name, keyhash ‖ signature)]), or raises InputError('malformed …')."""
    try:
        text_all = data.decode('utf-8') if len(data) <= MAXSMALL else None
    except UnicodeDecodeError:
        text_all = None
    if text_all is None or any(ord(c) < 0x20 and c != '\n' or c == '\x7f' for c in text_all):
        raise InputError('malformed: not UTF-8 text of at most 64 KiB without control characters')
    i = data.rfind(b'\n\n')
    if i < 0 or not data.endswith(b'\n') or i + 2 == len(data):
        raise InputError('malformed: no signature lines after a blank line')
    lines, sigs = data[i + 2:-1].decode().split('\n'), []
    if len(lines) > MAXSIGS:
        raise InputError('malformed: more than %d signature lines' % MAXSIGS)
    for line in lines:  # "— <key name> <base64(keyhash ‖ sig)>"
        name, _, sig = line[2:].partition(' ') if line.startswith('\u2014 ') else ('', '', '')
        raw = b64(sig) if valid_name(name) else None
        if raw is None or len(raw) < 5:
            raise InputError('malformed signature line %r' % line)
        sigs.append((name, raw))
    return data[:i + 1], sigs

def normalize(b):
    """§9: undo what mail does to a checkpoint kept as text: a BOM, CRLF line ends, a missing final newline."""
    b = b[3:] if b.startswith(b'\xef\xbb\xbf') else b
    b = b.replace(b'\r\n', b'\n').rstrip(b' \t\r\n')
    return b + b'\n' if b else b

def read_metadata(d):
    """§2: sealog.json, strictly: exactly format, origin, key and created, each once, spelled so."""
    def pairs(ps):
        if len({k for k, _ in ps}) != len(ps):
            raise ValueError('a member appears twice')
        return dict(ps)
    def bad_constant(c):
        raise ValueError('%s is not JSON' % c)
    m = json.loads(read_small(os.path.join(d, 'sealog.json')).decode('utf-8'), object_pairs_hook=pairs, parse_constant=bad_constant)
    if not isinstance(m, dict) or set(m) != {'format', 'origin', 'key', 'created'} or not all(isinstance(v, str) for v in m.values()):
        raise ValueError('want an object of the string members format, origin, key and created')
    if any(0xd800 <= ord(c) < 0xe000 for v in m.values() for c in v):
        raise ValueError('an unpaired surrogate')
    c = CREATED.fullmatch(m['created'])
    n = [int(x) if x and x[0] not in '.Z+-' else 0 for x in (c.groups() if c else [])]
    if m['format'] != 'sealog/v1' or not valid_name(m['origin']) or not m['key'] or not c or not 1 <= n[1] <= 12 \
            or not 1 <= n[2] <= calendar.monthrange(n[0], n[1])[1] or n[3] > 23 or n[4] > 59 or n[5] > 59 \
            or c[9] and (int(c[9]) > 23 or int(c[10]) > 59):
        raise ValueError('format, origin, key or created is not valid')
    return m

def time_ns(b):
    """§3.1 TIME → nanoseconds since 1970 (§4.2), or None when it is not a valid TIME."""
    if not (m := TIME.fullmatch(b)):
        return None
    y, mo, d, h, mi, s, frac = map(int, m.groups())
    if y < 1970 or not 1 <= mo <= 12 or not 1 <= d <= calendar.monthrange(y, mo)[1]:
        return None  # not a real calendar date from 1970 on
    ns = (calendar.timegm((y, mo, d, h, mi, s)) * 10**9) + frac
    return ns if h < 24 and mi < 60 and s < 60 and ns < 1 << 63 else None  # i64be(time_ns)

def parse_line(line):
    """§3.1: an exact entry line (newline included) → a dict, or an error string."""
    if len(line) > MAXLINE:
        return 'longer than 4 MiB'
    if not (m := HEAD.match(line)):
        return 'not in the exact form of §3.1 (seq, time or prev)'
    seq, t, prev, rest = int(m[1]), time_ns(m[2]), bytes.fromhex(m[3].decode()), line[m.end():-1]
    if seq > MAXSEQ or t is None:
        return 'seq or time out of range'
    if not rest.endswith(b'}') or len(rest) < 2:
        return 'does not end with }'
    body, sig = rest[:-1], None
    q = body[:-1].rfind(b'"')
    if body.endswith(b'"') and q >= 0 and body[:q + 1].endswith(b',"sig":"'):  # base64 holds no quote
        if (sig := b64(body[q + 1:-1], SIGSIZE)) is None:
            return 'SIG is not canonical base64 of 68 bytes'
        body = body[:q + 1 - 8]
    e = dict(seq=seq, time=t, prev=prev, sig=sig, erased=False, record=None, rotation=None)
    if m := re.fullmatch(rb'","body_hash":"([0-9a-f]{64})"', body):  # §5: an erased entry; BODYHASH is its body hash
        e.update(body_hash=bytes.fromhex(m[1].decode()), erased=True)
    elif (m := re.match(rb'","salt":"([0-9a-f]{32})","event":', body)) and body[m.end():].startswith(b'{') \
            and body.endswith(b'}') and len(body) - m.end() >= 2:
        event = body[m.end():]
        e['body_hash'] = SHA(bytes.fromhex(m[1].decode()) + event)  # §4.1
        if (r := ERASE.fullmatch(event)) and r[1] == r[3] and int(r[1]) <= MAXSEQ:  # §5: an erasure record
            e['record'] = (int(r[1]), bytes.fromhex(r[2].decode()))
        elif r := ROTATE.fullmatch(event):  # §5a: a rotation record (new key, previous key)
            e['rotation'] = (r[1].decode(), r[2].decode())
        elif (r := PRUNE.fullmatch(event)) and int(r[1]) <= MAXSEQ:  # §13.1: a prune record
            e['prune'] = (int(r[1]), bytes.fromhex(r[2].decode()), bytes.fromhex(r[3].decode()), int(r[4] or 0))
    else:
        return 'neither a live nor an erased entry line'
    e['leaf'] = SHA(b'\x00\x01' + seq.to_bytes(8, 'big') + t.to_bytes(8, 'big') + prev + e['body_hash'])  # §4.2, §4.3
    return e

class Tree:
    """§4.4: the RFC 6962 tree, kept as the stack of its complete subtrees (O(log n) memory)."""

    def __init__(self):
        self.n, self.stack = 0, []  # (size, hash), sizes decreasing powers of two

    def add(self, leaf):
        self.n, size, h = self.n + 1, 1, leaf
        while self.stack and self.stack[-1][0] == size:
            h, size = SHA(b'\x01' + self.stack.pop()[1] + h), size * 2
        self.stack.append((size, h))

    def root(self):
        h = self.stack[-1][1] if self.stack else SHA(b'')
        for _, left in reversed(self.stack[:-1]):
            h = SHA(b'\x01' + left + h)
        return h

    @staticmethod
    def of_edge(n, edge):
        """§13.2: the tree of n leaves whose complete subtrees have these roots, largest first."""
        t = Tree()
        t.n, t.stack = n, list(zip([1 << b for b in range(63, -1, -1) if n >> b & 1], edge))
        return t

def consistent(proof, m, m_root, n, n_root):
    """RFC 9162 §2.1.4.2: whether proof shows the tree of m leaves (root m_root) to be a prefix of that of n."""
    if not 0 < m <= n:
        return False
    if m == n:
        return not proof and m_root == n_root
    proof = ([m_root] if m & (m - 1) == 0 else []) + proof
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    if not proof:
        return False
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = SHA(b'\x01' + c + fr), SHA(b'\x01' + c + sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = SHA(b'\x01' + sr + c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == m_root and sr == n_root

def ckpt_text(origin, size, root):
    return b'%s\n%d\n%s\n' % (origin.encode(), size, base64.b64encode(root))

class Chain:
    """§5a: the chain of keys as the scan reads it. The first key is the candidate (trusted keys, then the log's own)
    whose key hash the first batch signature carries, else the first; a rotation record ending its batch and signed
    by the key in effect hands over to the key it names, for trees of size seq+2 on."""

    def __init__(self, origin, candidates):
        self.origin, self.candidates, self.chosen, self.matched = origin, candidates, False, False
        self.epochs = [dict(frm=1, rotation=None, key=candidates[0], checked=True)]

    def choose(self, sig):
        for k in [] if self.chosen else self.candidates:
            if k.hash == sig[:4] and k.name == self.origin:
                self.epochs[0]['key'], self.matched = k, True
                break
        self.chosen = True

    def at(self, size):
        return next((e for e in reversed(self.epochs[1:]) if size >= e['frm']), self.epochs[0])

    def rotate(self, seq, rot, p):
        """Why the record at seq is a forged rotation, or None (the chain goes on with its key)."""
        if not self.matched:
            return None  # no given key signs the first batch: no rotation can be judged
        cur, k = self.at(seq + 1)['key'], None
        try:
            k = Key(rot[0])
        except ValueError:
            pass
        ok = cur.verify(ckpt_text(self.origin, p['size'], p['root']), p['sig']) if p and p['root'] is not None else None
        why = 'does not end its batch' if p is None else 'hands over from another key than the one in effect' \
            if rot[1] != cur.text else 'names no verifier key of the log' if k is None or k.name != self.origin else \
            'names a key the chain already used' if any(e['key'].hash == k.hash for e in self.epochs) else \
            'is not signed by the key it hands over from' if ok is False else None
        if why:
            return 'entry %d is a rotation record that %s: a forged rotation' % (seq, why)
        self.epochs.append(dict(frm=seq + 2, rotation=seq, key=k, checked=ok is True))

    def ranges(self, n, trusted):
        return [dict(key=e['key'].text, first=e['frm'] - 1 if i else 0, rotation=e['rotation'], trusted=e['key'].hash in trusted,
                     last=self.epochs[i + 1]['rotation'] if i + 1 < len(self.epochs) else n - 1 if n > 0 and n - 1 >= (e['frm'] - 1 if i else 0) else None)
                for i, e in enumerate(self.epochs)]

class Scan:
    """§9 step 3: one pass over the segments, line by line, as the Go checker does (docs/FORMAT.md §9 spells it out)."""

    def __init__(self, candidates, origin, want, all_sigs):
        self.chain, self.origin, self.want, self.all_sigs = Chain(origin, candidates), origin, want, all_sigs
        self.forged_rotations = 0
        self.tree, self.intact, self.roots, self.problems, self.omitted_first, self.omitted = Tree(), True, {}, [], None, 0
        self.entries = self.next = self.last_time = self.torn = 0
        self.last, self.last_ok, self.brk, self.held, self.anomaly, self.flagged = bytes(32), True, None, None, False, set()
        self.last_where = None
        self.changed = self.missing = self.inserted = self.reordered = 0
        self.gaps, self.last_seg, self.last_seg_first, self.tail_break = [], None, 0, None
        self.pending, self.licensed, self.orphans = {}, [], 0  # §5: erased entries waiting for their record; licensed ones
        self.newest, self.clean, self.prev_size, self.seen, self.foreign = None, [], 0, 0, []  # §6.2: signature points
        self.verified = self.failed = self.unchecked = self.max_ok = self.uncheckable = 0
        self.fails, self.start, self.pruned, self.prunes = [], 0, None, []  # §13: a pruned log's start, its records
        self.kept_ok = 0  # §13.3: kept rotation records whose signature verified
        self.reached()

    def start_pruned(self, p):
        """§13.3: a pruned log starts after entry below−1, from pruned.json's chain link and tree edge."""
        self.pruned, self.start = p, p['below']
        self.next, self.last, self.last_time, self.tree.n = p['below'], p['leaf'], p['time'], p['below']
        self.tree.stack = list(zip([1 << b for b in range(63, -1, -1) if p['below'] >> b & 1], p['edge']))
        self.reached()
        self.prev_size, root = p['below'], self.tree.root()  # (the first batch kept starts at the prune point)
        for k in p.get('rotations', []):  # §13.3 step 3: the rotation records the prune kept, in the tree at below
            e, why = k['entry'], None
            leaf_tree = Tree.of_edge(e['seq'], k['edge']) if len(k['edge']) == bin(e['seq']).count('1') else None
            leaf_tree and leaf_tree.add(e['leaf'])
            if e['erased'] or not e['rotation']:
                why = 'is not a rotation record'
            elif e['sig'] is None:
                why = 'does not end its batch'
            elif leaf_tree is None:
                why = 'has an edge of the wrong size'
            elif not consistent(k['proof'], e['seq'] + 1, leaf_tree.root(), p['below'], root):
                why = 'is not in the tree at the prune point'
            if why:
                self.forged_rotations += 1
                self.problem('rotation', 'pruned.json keeps a rotation record that %s' % why, e['seq'])
                continue
            self.chain.choose(e['sig'])
            n = len(self.chain.epochs)
            if why := self.chain.rotate(e['seq'], e['rotation'], dict(size=e['seq'] + 1, root=leaf_tree.root(), sig=e['sig'])):
                self.forged_rotations += 1
                self.problem('rotation', why + ' (kept in pruned.json)', e['seq'])
            elif len(self.chain.epochs) > n:
                self.kept_ok += 1

    def problem(self, kind, msg, seq=None, where=None):
        self.anomaly = self.anomaly or seq is not None
        if len(self.problems) < MAXPROBLEMS:
            self.problems.append([seq, kind, (where + ': ' if where else '') + msg])
        else:
            self.omitted += 1
            if seq is not None and (self.omitted_first is None or seq < self.omitted_first):
                self.omitted_first = seq

    def mark_changed(self, seq, kind, msg, where):
        if seq not in self.flagged:
            self.changed += 1
            self.flagged.add(seq)
        self.problem(kind, msg, seq, where)

    def first_invalid(self):
        seqs = [p[0] for p in self.problems if p[0] is not None] + ([self.omitted_first] if self.omitted_first is not None else [])
        return min(seqs) if seqs else None

    def reached(self):
        if self.tree.n in self.want and self.intact:
            self.roots[self.tree.n] = self.tree.root()

    def line(self, e, where, seg, first):
        """§9: a line whose seq is not the one expected waits for the next: if that one is the entry after the
        expected one and the held line chains to the entry before, the held line is the expected entry, its seq changed."""
        if self.held:
            h, self.held = self.held, None
            if isinstance(e, dict) and self.next < MAXSIZE and e['seq'] == self.next + 1 and (not self.last_ok or h[0]['prev'] == self.last):
                self.seq_changed(*h)
            else:
                self.entry(*h)
        if isinstance(e, dict) and e['seq'] != self.next:
            self.held = (e, where, seg, first)
            return
        self.entry(e, where, seg, first)

    def note_segment(self, seg):
        if seg != self.last_seg:
            self.last_seg, self.last_seg_first = seg, self.next

    def seq_changed(self, e, where, seg, first):
        self.entries += 1
        self.note_segment(seg)
        if self.brk:
            self.resolve(not self.last_ok or e['prev'] == self.last)
        if first is not None and first != self.next:
            self.problem('segment', 'the segment named %d starts with entry %d' % (first, self.next), self.next, where)
        self.mark_changed(self.next, 'seq', 'the line where entry %d belongs says seq %d: its seq was changed' % (self.next, e['seq']), where)
        self.intact, self.last_ok, self.last_time, self.next = False, False, e['time'], self.next + 1

    def resolve(self, chain_ok):
        """§9: entry n's PREV did not match entry n−1: n−1 was changed if entry n+1 chains to n, else n."""
        (n, where_n, where_prev), self.brk = self.brk, None
        if chain_ok and n > self.start:  # (entry 0's PREV is 32 zero bytes, a pruned log's first is pruned.json's: its own)
            self.mark_changed(n - 1, 'content', "entry %d's leaf hash is not the prev entry %d holds" % (n - 1, n), where_prev)
            return False
        self.mark_changed(n, 'chain', "entry %d's prev is not entry %d's leaf hash, and entry %d does not chain to it" % (n, n - 1, n + 1), where_n)
        return True

    def entry(self, e, where, seg, first):
        self.entries += 1
        self.note_segment(seg)
        if isinstance(e, str):  # a line that does not parse is the entry expected there, changed
            self.mark_changed(self.next, 'malformed', 'where entry %d was expected: %s' % (self.next, e), where)
            self.brk, self.last_ok, self.intact, self.next = None, False, False, self.next + 1
            return
        seq = e['seq']
        if first is not None and seq != first:
            self.problem('segment', 'the segment named %d starts with entry %d' % (first, seq), seq, where)
        if seq > self.next:
            if self.brk:
                self.resolve(False)
            self.gap(self.next, seq - 1, where)
            self.next, self.last_ok, self.intact = seq, False, False
        elif seq < self.next:
            if self.fill_gap(seq):
                self.reordered += 1
                self.problem('order', 'entry %d is out of place, after entry %d' % (seq, self.next - 1), seq, where)
            else:
                self.inserted += 1
                self.problem('duplicate', 'entry %d appears again after entry %d' % (seq, self.next - 1), seq, where)
            self.intact = False
            return
        chain_ok = not self.last_ok or e['prev'] == self.last
        if self.brk:
            chain_ok = self.resolve(chain_ok) or chain_ok
        if not chain_ok:
            self.brk, self.anomaly = (seq, where, self.last_where), True
        if self.last_ok and e['time'] < self.last_time:
            self.mark_changed(seq, 'time', "entry %d's time is earlier than entry %d's" % (seq, seq - 1), where)
        if e['erased']:
            self.pending[seq] = (e['body_hash'], where)
        elif e['record'] and e['record'][0] < seq:
            named, h = e['record']
            if self.pending.get(named, (None,))[0] == h:
                del self.pending[named]
                self.licensed.append((named, seq, where))
            else:
                self.orphans += 1
        elif e.get('prune'):
            self.prunes.append((seq, e['time'], e['prune']))
        if self.intact:
            self.tree.add(e['leaf'])
        self.last, self.last_ok, self.last_time, self.last_where, self.next = e['leaf'], True, e['time'], where, seq + 1
        self.reached()
        if e['sig'] is not None:  # §6.2: the last line of a batch
            p = dict(size=self.next, root=self.tree.root() if self.intact else None, sig=e['sig'], where=where, frm=self.prev_size)
            self.prev_size, self.seen, self.newest = self.next, self.seen + 1, p
            if not self.anomaly and self.intact:
                self.clean = [p] + self.clean[:1]
            self.chain.choose(e['sig'])
            if e['sig'][:4] != self.chain.at(p['size'])['key'].hash:
                self.foreign.append(p)
                self.failed, self.fails = self.failed + self.all_sigs, self.fails + [p] * self.all_sigs
            elif self.all_sigs:
                self.check_sig(p, True)
        if e['rotation']:  # §5a
            why = self.chain.rotate(seq, e['rotation'], p if e['sig'] is not None else None)
            if why:
                self.forged_rotations += 1
                self.mark_changed(seq, 'rotation', why, where)

    def check_sig(self, p, count_unchecked):
        """§6.2: a batch signature, on the checkpoint its line implies: True, False, or None (not checkable)."""
        if p['root'] is None:
            self.unchecked += count_unchecked
            return None
        ok = self.chain.at(p['size'])['key'].verify(ckpt_text(self.origin, p['size'], p['root']), p['sig'])
        if ok:
            self.verified, self.max_ok = self.verified + 1, max(self.max_ok, p['size'])
        elif ok is False:
            self.failed, self.fails = self.failed + 1, self.fails + [p]
        else:
            self.unchecked, self.uncheckable = self.unchecked + 1, self.uncheckable + 1
        return ok

    def gap(self, frm, to, where):
        self.missing += to - frm + 1
        if len(self.gaps) < MAXPROBLEMS:
            self.gaps.append([frm, to])
        self.problem('gap', 'entries %d to %d are missing' % (frm, to), frm, where)

    def fill_gap(self, seq):
        for i, (frm, to) in enumerate(self.gaps):
            if frm <= seq <= to:
                self.gaps[i:i + 1] = [g for g in ([frm, seq - 1], [seq + 1, to]) if g[0] <= g[1]]
                self.missing -= 1
                for p in self.problems:  # the gap's problem now names what is left of it, or goes
                    if p[1] == 'gap' and p[0] == frm:
                        left = [g for g in self.gaps if frm <= g[0] and g[1] <= to]
                        if left:
                            p[0], p[2] = left[0][0], 'entries missing: %s' % left
                        else:
                            self.problems.remove(p)
                        break
                return True
        return False

    def segment(self, name, f, last, compressed, proc):
        """§3.3: the lines of one segment, up to NUL padding, a torn line or the end; damage ends it."""
        n, damaged, torn, padding = 0, None, b'', 0
        while piece := f.readline(MAXLINE + 1):
            n += 1
            where = 'segment %s line %d' % (name, n)
            if 0 in piece:  # padding from its first NUL to the end of the file, after a torn line
                torn = piece[:piece.index(0)]
                if len(torn) >= MAXLINE:
                    damaged, torn = 'a line longer than 4 MiB', b''
                elif compressed:
                    damaged = 'NUL bytes in a compressed segment'
                else:
                    padding, damaged = self.rest_is_nul(f, piece[len(torn):])
                break
            if len(piece) > MAXLINE or len(piece) >= MAXLINE and not piece.endswith(b'\n'):
                damaged = 'a line longer than 4 MiB'
                break
            if not piece.endswith(b'\n'):
                torn = piece
                break
            self.line(parse_line(piece), where, name, int(name) if n == 1 else None)
        if proc:
            stopped = damaged is not None and proc.poll() is None
            if stopped:
                proc.kill()
            if proc.wait() != 0 and not stopped:
                damaged, torn, padding = 'it does not decompress', b'', 0
        where = 'segment %s line %d' % (name, n)
        if damaged:
            self.problem('segment', damaged, self.next, where)
        if torn:
            if last:
                self.torn = len(torn)
            else:
                self.problem('segment', 'an unterminated line in a segment that is not the last', self.next, where)
        if padding and not last:
            self.problem('segment', 'NUL padding in a segment that is not the last', self.next, where)

    @staticmethod
    def rest_is_nul(f, head):
        """The rest of a plain segment must be NUL; its holes (a sparse file) are skipped, not read (§3.3)."""
        if head.count(0) != len(head):
            return 0, 'NUL bytes followed by data inside the segment'
        fd, pos, n = f.fileno(), f.tell(), len(head)
        size = os.fstat(fd).st_size
        while pos < size:
            try:
                data = os.lseek(fd, pos, os.SEEK_DATA)
            except OSError:
                break  # a hole to the end
            hole = os.lseek(fd, data, os.SEEK_HOLE)
            for off in range(data, hole, 1 << 20):
                b = os.pread(fd, min(1 << 20, hole - off), off)
                if b.count(0) != len(b):
                    return 0, 'NUL bytes followed by data inside the segment'
            pos = hole
        return n + size - f.tell(), None

    def run(self, d, pre):
        """§1, §3.4: the segments in name order; NAME.jsonl wins over NAME.jsonl.zst; other entries are damage."""
        sd, found = os.path.join(d, 'segments'), {}
        for f in sorted(os.listdir(sd)) if pre is not None else []:
            if not SEGMENT.fullmatch(f):
                continue
            st = os.lstat(os.path.join(sd, f))
            if int(f[:20]) >= 1 << 64 or not stat.S_ISREG(st.st_mode):
                pre.append([None, 'segment', 'segments/%s is named like a segment but is not one' % f])
            elif f[:20] not in found or not f.endswith('.zst'):
                found[f[:20]] = os.path.join(sd, f)
        self.problems = (pre or []) + self.problems
        found = sorted(found.items())
        while self.pruned and len(found) > 1 and int(found[1][0]) <= self.start:  # §13.2: segments wholly below the prune point
            found = found[1:]
        for i, (name, path) in enumerate(found):
            zst = path.endswith('.zst')
            if zst and not shutil.which('zstd'):
                raise OSError('the zstd command is not installed: cannot read the compressed segment ' + path)
            try:
                f = open_regular(path)
            except (InputError, OSError) as e:
                self.problem('segment', str(e), self.next)
                continue
            proc = zst and subprocess.Popen(['zstd', '-dcq'], stdin=f, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            with proc.stdout if zst else f:
                self.segment(name, proc.stdout if zst else f, i == len(found) - 1, zst, proc)
            f.close()
        if self.held:
            self.entry(*self.held)
            self.held = None
        if self.brk:
            self.tail_break = self.brk[0]  # a break at the last entry: a batch signature may say more
            self.mark_changed(self.brk[0], 'chain', 'the last entry does not chain to the one before', self.brk[1])
            self.brk = None

def verify(d, key_texts, trusted, all_sigs=False, no_log_key=False, revocations=(), witnesses=()):
    """§9: the whole procedure; returns the report. key_texts: the trusted keys, or None for the log's own (§5a: any
    key of the chain may be the trusted one). Raises OSError or InputError (exit 3)."""
    pre, meta_missing = [], False
    key_text = key_texts[0] if key_texts else None
    try:  # step 1
        meta = read_metadata(d)
        origin, key = meta['origin'], Key(meta['key'] if key_text is None else key_text)
    except (OSError, ValueError, KeyError, TypeError, RecursionError, InputError) as e:
        if key_text is None or isinstance(e, OSError) and not os.path.isdir(d):
            raise InputError('no usable sealog.json (%s): not a sealog v1 log' % e)
        key = Key(key_text)  # with a key from outside, a log without metadata is a damaged log
        origin, meta, meta_missing = key.name, None, isinstance(e, FileNotFoundError)
        pre.append([None, 'metadata', "the log's metadata is damaged: %s" % e])
    trusted_keys = [key] + [Key(t) for t in (key_texts or [])[1:]]
    trusted_hashes = {k.hash for k in trusted_keys}
    candidates = list({k.hash: k for k in trusted_keys}.values())
    try:  # §5a: the log's own key may start a chain that leads to a trusted key
        lk = Key(meta['key']) if key_text is not None and meta and not no_log_key else None
        candidates += [lk] if lk and lk.name == origin and lk.hash not in {k.hash for k in candidates} else []
    except ValueError:
        pass
    cps, pending = [], []
    for name, data in trusted:  # trusted checkpoints: one that is not a checkpoint of the log is the caller's error
        data = normalize(data)
        try:
            c = parse_checkpoint(data, key, key.name)
            for k in trusted_keys[1:]:
                c = parse_checkpoint(data, k, key.name) if c[2] is False else c
        except InputError as e:
            raise InputError('%s: %s' % (name, e))
        if c[2] is False:  # not signed by a trusted key: perhaps by a later key of the chain (checked after the scan)
            pending.append((len(cps), name, data))
        cps.append(('trusted checkpoint', c))
    ck_raw = None
    try:  # step 2: the checkpoint file, read before the segments
        cps.insert(0, ('checkpoint file', parse_checkpoint(ck_raw := read_small(os.path.join(d, 'checkpoint')), key, origin)))
    except FileNotFoundError:
        pass
    except InputError as e:
        ck_raw = cps.insert(0, ('checkpoint file', str(e)))
    pending = [(i + (cps[0][0] == 'checkpoint file'), n, b) for i, n, b in pending]
    segs = stat.S_ISDIR(os.lstat(os.path.join(d, 'segments')).st_mode) if os.path.lexists(os.path.join(d, 'segments')) else False
    if not segs:
        if key_text is None:
            raise InputError('no segments directory: not a sealog log')
        if meta_missing and not cps:
            raise InputError('nothing of a sealog log here')
        pre.append([None, 'segment', "the log's segments directory is gone"])
    tdir = os.path.join(d, 'timestamps')  # §12: timestamp files, named by the tree size they cover
    tsrs = sorted((int(n[:20]), n) for n in (os.listdir(tdir) if os.path.isdir(tdir) and not os.path.islink(tdir) else [])
                  if re.fullmatch(r'[0-9]{20}\.tsr', n) and int(n[:20]) < 1 << 64)
    want = {c[0] for _, c in cps if isinstance(c, tuple)} | {n for n, _ in tsrs}
    s = Scan(candidates, origin, want, all_sigs)
    (p := read_pruned(d, pre)) and s.start_pruned(p)
    s.run(d, pre if segs else None)  # step 3 (an OSError means the log cannot be read: exit 3)
    if not segs:
        s.problems = pre + s.problems
    chain = s.chain
    if key_text is not None and not no_log_key and not any(e['key'].hash in trusted_hashes for e in chain.epochs):
        return verify(d, key_texts, trusted, all_sigs, True, revocations, witnesses)  # the log's own key led to no trusted key
    if ck_raw is not None and len(chain.epochs) > 1:  # §5a: the checkpoint file is by the key in effect at its size
        cps[0] = ('checkpoint file', parse_checkpoint(ck_raw, chain.at(cps[0][1][0])['key'], origin))
    for i, name, data in pending:
        e = chain.at(cps[i][1][0])
        c = parse_checkpoint(data, e['key'], key.name)
        if c[2] is not True or e['frm'] > 1 and not e['checked'] and e['key'].hash not in trusted_hashes:
            raise InputError('%s: not signed by a trusted key, nor by the key the chain authorises at its size' % name)
        cps[i] = ('trusted checkpoint', c)
    s.witnesses = [parse_witness(w) for w in witnesses]
    s.revs = [parse_revocation(name, b, origin, trusted_keys, chain) for name, b in revocations]
    s.trusted_raw = [normalize(b) for _, b in trusted]
    r, start = conclude(s, d, key, origin, key_text, cps, trusted, all_sigs, candidates, trusted_hashes), 0
    r['timestamps'] = []
    for n, name in tsrs:  # §12.2: bound to its checkpoint (the CMS signature and the TSA's chain are not checked here)
        t = {'size': n, 'from': start, 'status': 'not checked' if s.next >= n > r['authenticated'] or s.roots.get(n) is None and n <= s.next else 'bad'}
        if t['status'] == 'bad':
            try:
                h, imprint, t['time'], nonce = tst_info(read_small(os.path.join(tdir, name)))
                text = b'%s\n%d\n%s\n' % (origin.encode(), n, base64.b64encode(s.roots[n]))
                t['status'] = 'bound' if hashlib.new(h, text).digest() == imprint and nonce else 'bad'
            except (OSError, ValueError, KeyError, IndexError, InputError):
                pass
        if t['status'] == 'bad':
            r['problems'].append('timestamp: entry %d: timestamps/%s does not cover the checkpoint of size %d' % (min(start, s.next), name, n))
            r['valid'], r['verdict'] = False, 'tampered'
            r['first_invalid'] = min(start, s.next, r['first_invalid'] if r['first_invalid'] is not None else MAXSIZE)
        start = n if t['status'] == 'bound' else start
        r['timestamps'].append(t)
    return r

def read_pruned(d, pre):
    """§13.2: pruned.json, strictly; None if the log was never pruned; damage is a problem."""
    try:
        p = json.loads(read_small(os.path.join(d, 'pruned.json')), object_pairs_hook=lambda kv: dict(kv) if len(set(k for k, _ in kv)) == len(kv) else 1 / 0)
        if type(p) is not dict or sorted(set(p) - {'rotations'}) != ['below', 'edge', 'leaf', 'record', 'time'] or type(p['below']) is not int or \
                type(p['record']) is not int or not 1 <= p['below'] <= p['record'] <= MAXSEQ or type(p['edge']) is not list or \
                len(p['edge']) != bin(p['below']).count('1') or not all(type(h) is str and re.fullmatch('[0-9a-f]{64}', h) for h in p['edge'] + [p['leaf']]):
            raise ValueError('not the members and values of §13.2')
        if (t := time_ns(p['time'].encode())) is None:
            raise ValueError('time %r is not a TIME (§3.1)' % p['time'])
        rots, last = [], -1
        if 'rotations' in p and (type(p['rotations']) is not list or not p['rotations']):
            raise ValueError('rotations is not a non-empty array (§13.2)')
        for k in p.get('rotations', []):
            if type(k) is not dict or sorted(k) != ['edge', 'line', 'proof'] or type(k['line']) is not str or \
                    not all(type(x) is list and len(x) <= 64 and all(type(h) is str and re.fullmatch('[0-9a-f]{64}', h) for h in x) for x in (k['edge'], k['proof'])):
                raise ValueError('a kept rotation is not the members and values of §13.2')
            e = parse_line(k['line'].encode() + b'\n')
            if isinstance(e, str) or not last < e['seq'] < p['below']:
                raise ValueError('a kept rotation line: %s' % (e if isinstance(e, str) else 'seq out of order'))
            last = e['seq']
            rots.append(dict(entry=e, edge=[bytes.fromhex(h) for h in k['edge']], proof=[bytes.fromhex(h) for h in k['proof']]))
        return dict(p, leaf=bytes.fromhex(p['leaf']), edge=[bytes.fromhex(h) for h in p['edge']], time=t, rotations=rots)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError, ZeroDivisionError, AttributeError, InputError) as e:
        pre.append([None, 'pruned', 'pruned.json: %s' % e])

def check_pruned(s, auth, wrong_key):
    """§13.3: the prune point must be exactly what the authenticated prune record that allows the most allows."""
    best = max((r for r in s.prunes if r[0] < auth), key=lambda r: r[2][0], default=None)
    p = s.pruned
    if p is None or wrong_key or best is None and any(q[0] is not None for q in s.problems):
        return
    t = Tree()
    t.n, t.stack = p['below'], list(zip([1 << b for b in range(63, -1, -1) if p['below'] >> b & 1], p['edge']))
    if best is None:
        s.missing += p['below']
        s.problem('pruned', 'entries 0 to %d were deleted, but no authenticated prune record allows it' % (p['below'] - 1), 0)
    elif best[2][0] < p['below']:
        s.missing += p['below'] - best[2][0]
        s.problem('pruned', 'entries %d to %d were deleted, but the prune record (entry %d) allows only below %d: widened' % (
            best[2][0], p['below'] - 1, best[0], best[2][0]), best[2][0])
    elif best[2][0] == p['below'] and (best[2][1] != p['leaf'] or best[2][2] != t.root()):
        s.problem('pruned', 'pruned.json does not match the prune record at entry %d' % best[0], p['below'])
    elif best[2][0] == p['below'] and best[2][3] != len(p['rotations']):
        s.problem('pruned', 'pruned.json keeps %d rotation records, the prune record at entry %d says %d were pruned' % (
            len(p['rotations']), best[0], best[2][3]), p['below'])

REVTIME = re.compile(r'([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?Z')

def parse_revocation(name, b, origin, trusted_keys, chain):
    """docs/KEYS.md: a revocation statement, a signed note "sealog-revocation/v1, origin, revoked key, size P, time T"
    signed by a trusted key other than the revoked one, or by the key the revoked one handed over to at or before P."""
    try:
        text, sigs = parse_note(normalize(b))
        lines = text.decode().split('\n')[:-1]
        if len(lines) != 5 or lines[0] != 'sealog-revocation/v1':
            raise ValueError('not a revocation statement (sealog-revocation/v1, origin, key, size, time)')
        rv, m = Key(lines[2]), REVTIME.fullmatch(lines[4])
        if rv.name != lines[1] or not re.fullmatch('0|[1-9][0-9]*', lines[3]) or int(lines[3]) >= 1 << 64 or not m:
            raise ValueError('a malformed key, size or time')
        t = datetime.datetime(*(int(x) for x in m.groups()[:6]), tzinfo=datetime.timezone.utc)
        t_ns = calendar.timegm(t.timetuple()) * 10 ** 9 + int((m[7] or '0').ljust(9, '0'))
    except (ValueError, InputError) as e:
        raise InputError('revocation statement %s: %s' % (name, e))
    if lines[1] != origin:
        raise InputError('revocation statement %s: it revokes a key of %r, not of this log (%r)' % (name, lines[1], origin))
    same = lambda k: (k.name, k.hash) == (rv.name, rv.hash)
    allowed = [k for k in trusted_keys if not same(k)] + [e['key'] for e in chain.epochs[1:]
                                                          if e['checked'] and e['rotation'] + 1 <= int(lines[3]) and not same(e['key'])]
    if not any(n == k.name and raw[:4] == k.hash and k.verify(text, raw) for k in allowed for n, raw in sigs):
        raise InputError('revocation statement %s: not signed by a key you trust other than the revoked one, '
                         'nor by the key the revoked one handed over to before the point' % name)
    return dict(key=rv, size=int(lines[3]), time=t_ns, text=lines[4])

def parse_witness(text):
    """C2SP tlog-cosignature: a witness key <name>+<keyhash>+base64(0x04 ‖ Ed25519 public key)."""
    text = pathlib.Path(text).read_text().strip() if os.path.isfile(text) else text.strip()
    parts = text.split('+', 2)
    raw = b64(parts[2], 33) if len(parts) == 3 else None
    if not raw or raw[0] != 4 or SHA(parts[0].encode() + b'\n' + raw)[:4].hex() != parts[1]:
        raise InputError('witness key %s: not a C2SP cosignature/v1 witness key with its key hash' % text)
    return parts[0], bytes.fromhex(parts[1]), raw[1:]

def witnessed(s, t_ns, key):
    """The largest size of a trusted checkpoint the entries reproduce that a trusted witness cosigned before t_ns."""
    best = 0
    for b in s.trusted_raw:
        try:
            size, root, _ = parse_checkpoint(b, key, s.origin)
            text, sigs = parse_note(b)
        except InputError:
            continue
        if not 0 < size <= s.next or s.roots.get(size) is None or s.roots[size] != root:
            continue
        for name, kh, pub in s.witnesses:
            for n, raw in sigs:
                ts = int.from_bytes(raw[4:12], 'big') if len(raw) == 76 and (n, raw[:4]) == (name, kh) else 1 << 63
                if ts < 1 << 63 and ts * 10 ** 9 < t_ns and ed25519_verify(pub, b'cosignature/v1\ntime %d\n' % ts + text, raw[12:]):
                    best = max(best, size)
    return best

def check_revoked(s, auth, trusted_hashes, key):
    """docs/KEYS.md, as verify/revocation.go: the authenticated entries only a revoked key vouches for past its point."""
    es, out = s.chain.epochs, []
    for r in s.revs:
        ids = [j for j, e in enumerate(es) if (e['key'].name, e['key'].hash) == (r['key'].name, r['key'].hash)]
        if not ids:
            continue  # not a key of this log's chain: it changes nothing
        i, covered = ids[-1], r['size']
        covered = max(covered, es[i]['frm'] - 1) if i > 0 else covered  # the trees before its turn are the previous key's
        if i + 1 < len(es) and es[i + 1]['checked'] and es[i + 1]['rotation'] + 1 <= r['size']:
            covered = auth  # it handed over before the point: its successors vouch for everything
        for e in es[i + 1:]:
            covered = max(covered, s.max_ok) if e['key'].hash in trusted_hashes and s.max_ok >= e['frm'] else covered
        w = witnessed(s, r['time'], key)
        covered, rr = max(covered, w), dict(key=r['key'].text, point=r['size'], first=0, last=0, count=0, witnessed=w)
        if covered < auth:
            rr.update(first=covered, last=auth - 1, count=auth - covered)
            s.problem('revoked', 'entries %d to %d are covered only by the revoked key %s past its point (size %d), '
                      'and no trusted witness vouches for them before %s' % (covered, auth - 1, r['key'].text, r['size'], r['text']), covered)
        out.append(rr)
    return out

def der(b, i):
    """One DER element at i: (tag, content start, content end)."""
    t, n, i = b[i], b[i + 1], i + 2
    n, i = (int.from_bytes(b[i:i + (n & 0x7f)], 'big'), i + (n & 0x7f)) if n & 0x80 else (n, i)
    if i + n > len(b):
        raise ValueError('truncated DER')
    return t, i, i + n

def kids(b, el):
    out = [der(b, el[1])] if el[1] < el[2] else []
    while out and out[-1][2] < el[2]:
        out.append(der(b, out[-1][2]))
    return out

def tst_info(tsr):
    """§12.1: a granted TimeStampResp's TSTInfo: (hash name, imprint, genTime, has a nonce)."""
    resp = kids(tsr, der(tsr, 0))
    if tsr[slice(*kids(tsr, resp[0])[0][1:])] not in (b'\x00', b'\x01'):
        raise ValueError('not granted')
    sd = kids(tsr, der(tsr, kids(tsr, resp[1])[1][1]))  # ContentInfo [0] -> SignedData
    info = tsr[slice(*der(tsr, kids(tsr, sd[2])[1][1])[1:])]  # encapContentInfo [0] -> OCTET STRING: TSTInfo
    f = kids(info, der(info, 0))
    mi = kids(info, f[2])
    h = {bytes.fromhex('608648016503040201'): 'sha256', bytes.fromhex('608648016503040202'): 'sha384', bytes.fromhex('608648016503040203'): 'sha512'}
    return h[info[slice(*kids(info, mi[0])[0][1:])]], info[slice(*mi[1][1:])], info[slice(*f[4][1:])].decode(), any(t == 2 for t, _, _ in f[5:])

def default_sigs(s):
    """§9 step 4: the newest batch signature; if it fails, the newest one made before any entry problem that verifies."""
    checked = [0]
    def attempt(p):
        if p is None or p['root'] is None:
            return False
        own = p['sig'][:4] == s.chain.at(p['size'])['key'].hash
        checked[0] += own
        ok = s.check_sig(p, False) if own else False
        return bool(ok)
    if not attempt(s.newest):
        for c in s.clean:
            if c['size'] != s.newest['size'] and attempt(c):
                break
    s.failed, s.fails = s.failed + len(s.foreign), sorted(s.fails + s.foreign, key=lambda p: p['size'])
    s.unchecked = s.seen - len(s.foreign) - checked[0]

def conclude(s, d, key, origin, key_text, cps, trusted, all_sigs, candidates, trusted_hashes):
    """§9 steps 4 to 6, as the Go verifier concludes (verify/verdict.go)."""
    if not all_sigs:
        default_sigs(s)
    present, ck_auth, ck_ok, ck_failed, bad_cks, beyond, forked = s.next, 0, 0, 0, [], 0, False
    checked_to, truncated, trusted_checked = 0, False, False
    key_ok = key.name == origin
    if not key_ok:
        s.problem('key', "the key's name %r is not the log's origin %r" % (key.name, origin))
    for src, c in cps:  # step 5
        if isinstance(c, str):
            s.problem('checkpoint', 'the %s: %s' % (src, c))
            continue
        size, root, ok = c
        if ok is None:
            s.problem('limit', 'the %s signature NOT checked: %s' % (src, 'openssl failed' if shutil.which('openssl') else 'no openssl command'))
        elif not ok:
            ck_failed += 1
            bad_cks.append('the %s (size %d): its signature does not verify' % (src, size))
        elif size > present:
            ck_ok, truncated, beyond = ck_ok + 1, True, max(beyond, size)
            s.problem('truncated', 'the %s covers %d entries but the log holds %d: truncated' % (src, size, present), present)
            if src != 'checkpoint file':
                trusted_checked, checked_to = True, max(checked_to, size)
        elif s.roots.get(size) is None:
            ck_ok += 1
        elif s.roots[size] != root:
            ck_ok, forked = ck_ok + 1, True
            s.problem('checkpoint', 'the %s: its root is not the root of the tree of size %d' % (src, size))
        else:
            ck_ok, ck_auth = ck_ok + 1, max(ck_auth, size)
            if src != 'checkpoint file':
                trusted_checked, checked_to = True, max(checked_to, size)
    def entry_problem_before(size):  # (a break at the last entry is narrowed down by the batch signatures)
        return any(p[0] is not None and p[0] < size and p[1] != 'signature' and (p[1], p[0]) != ('chain', s.tail_break)
                   for p in s.problems) or \
            s.omitted_first is not None and s.omitted_first < size
    auth, first = max(ck_auth, s.max_ok), s.first_invalid()
    second = ck_ok == 0 and s.verified == 0 and (s.failed > 0 or ck_failed > 0) or \
        s.tail_break is not None and first == s.tail_break or \
        any(f['size'] > auth and not entry_problem_before(f['size']) for f in s.fails) or forked and not entry_problem_before(MAXSIZE)
    if key_ok and not all_sigs and second:  # §9: locate the damage with every batch signature, in a second pass
        s2 = Scan(candidates, origin, set(), True)
        s.pruned and s2.start_pruned(s.pruned)
        s2.run(d, [] if os.path.isdir(os.path.join(d, 'segments')) else None)
        s.verified, s.failed, s.unchecked, s.max_ok, s.fails = s2.verified, s2.failed, s2.unchecked, s2.max_ok, s2.fails
        s.uncheckable = s2.uncheckable
        all_sigs = True
    s.fails.sort(key=lambda p: p['size'])
    if s.uncheckable:
        s.problem('limit', '%d signatures NOT checked: %s' % (s.uncheckable, 'openssl failed' if shutil.which('openssl') else 'no openssl command'))
    verified, failed = s.verified + ck_ok + s.kept_ok, s.failed + ck_failed
    auth = max(ck_auth, s.max_ok)
    wrong_key = not key_ok or verified == 0 and failed > 0
    if wrong_key:
        auth = 0
        if key_ok:
            s.problem('key', 'no signature in the log verifies with the key given: signed by another key, or re-signed')
    else:
        for f in s.fails:
            if f['size'] <= auth:
                s.problem('signature', 'the signature on entry %d does not verify, but a later one covering it does: '
                          'the signature was altered' % (f['size'] - 1), f['size'] - 1, f['where'])
                continue
            if entry_problem_before(f['size']):
                break
            frm = seq = max(f['frm'], auth)  # the first batch whose signature fails holds the first changed entry
            t = s.tail_break
            if t and f['size'] - 1 >= t - 1 >= frm:
                seq = t - 1  # a break at the last entry n inside this batch: the chain narrows it to n−1 (§9)
            s.problem('signature', 'the signature of the batch %d…%d does not verify' % (frm, f['size'] - 1), seq, f['where'])
            s.changed += sum(1 for x in ([seq] if seq != frm else range(frm, f['size'])) if x not in s.flagged)
            break
        for b in bad_cks:
            s.problem('checkpoint', b)
        if forked and not s.fails and all_sigs:
            s.problem('checkpoint', 'every batch signature verifies, yet a checkpoint disagrees: a fork')
    auth = min(auth, present)
    erased = forged = unjudged = 0
    judge = not wrong_key and s.first_invalid() is None  # §5: damage elsewhere may hide a record, or keep it unproven
    for seq, (h, where) in sorted(s.pending.items()):  # §5: erased entries that no record named
        if not judge:
            unjudged += 1
            continue
        forged += 1
        s.mark_changed(seq, 'erasure', 'entry %d is erased, but no erasure record names it' % seq, where)
    for seq, rec, where in s.licensed:
        if rec < auth or not judge:
            erased, unjudged = erased + (rec < auth), unjudged + (rec >= auth)
            continue
        forged += 1
        s.mark_changed(seq, 'erasure', 'entry %d is erased, and its record (entry %d) is not covered by a verified signature' % (seq, rec), where)
    check_pruned(s, auth, wrong_key)
    revoked = [] if wrong_key else check_revoked(s, auth, trusted_hashes, key)
    s.missing += max(beyond - present, 0)
    unsigned = 0
    if auth < present and not wrong_key:
        unsigned = min(present - s.start, s.entries) - min(max(auth, s.start) - s.start, s.entries)
        if not s.problems and not s.omitted and auth < s.last_seg_first:
            s.problem('unsigned', 'entries %d to %d are covered by no signature and not all in the last segment' % (auth, present - 1), auth)
    kinds = {p[1] for p in s.problems}
    valid = not s.problems and not s.omitted and unsigned == 0
    verdict = 'valid' if valid else 'tampered' if kinds - {'key', 'limit', 'revoked'} or s.omitted else 'revoked' if 'revoked' in kinds \
        else 'wrong-key' if wrong_key else 'incomplete' if 'limit' in kinds else 'unsigned'
    return {'valid': valid, 'verdict': verdict, 'origin': origin, 'key': key.text, 'key_from_log': key_text is None,
            'entries': s.entries, 'authenticated': auth, 'first_invalid': s.first_invalid(), 'truncated': truncated,
            'truncation_checked': trusted_checked, 'truncation_checked_to': checked_to, 'erased_count': erased,
            'forged_erasure_count': forged, 'erasures_unchecked': unjudged, 'unsigned_count': unsigned, 'torn_bytes': s.torn,
            'signatures_verified': verified, 'signatures_failed': failed, 'signatures_unchecked': s.unchecked,
            'changed_count': s.changed, 'missing_count': s.missing, 'inserted_count': s.inserted,
            'reordered_count': s.reordered, 'tampered_count': s.changed + s.missing + s.inserted + s.reordered,
            'keys': s.chain.ranges(s.next, trusted_hashes), 'forged_rotation_count': s.forged_rotations, 'revoked': revoked,
            'problems': ['%s: %s%s' % (p[1], '' if p[0] is None else 'entry %d: ' % p[0], p[2]) for p in s.problems] +
                        (['… and %d more problems' % s.omitted] if s.omitted else [])}

def human(r):
    status = {'valid': 'VALID', 'tampered': 'TAMPERED', 'revoked': 'REVOKED', 'unsigned': 'UNSIGNED', 'wrong-key': 'WRONG KEY', 'incomplete': 'INCOMPLETE'}
    cut = r['truncation_checked_to'] < r['authenticated'] + r['unsigned_count']
    out = ['sealog log %s: %s' % (r['origin'], status[r['verdict']]),
           r['key_from_log'] and 'WARNING: no --key given: the key stored in the log was used, '
                                 'so this proves only that the log is consistent with that key',
           'entries: %d, authenticated: %d, erased: %d (forged: %d), unsigned: %d' % (
               r['entries'], r['authenticated'], r['erased_count'], r['forged_erasure_count'], r['unsigned_count']),
           'signatures: %d verified, %d failed, %d not checked' % (r['signatures_verified'], r['signatures_failed'], r['signatures_unchecked']),
           'tampered: %d (changed %d, missing %d, inserted %d, out of place %d)' % tuple(
               r[k + '_count'] for k in ('tampered', 'changed', 'missing', 'inserted', 'reordered')),
           r['verdict'] == 'unsigned' and 'the unsigned entries end the last segment, as a crash leaves them (the writer\'s '
                                          'next open cuts them off), unless someone without the key added them',
           r['torn_bytes'] and 'a torn line of %d bytes at the end of the last segment is not part of the log' % r['torn_bytes'],
           'truncation: ' + ('TRUNCATED' if r['truncated'] else ('ruled out up to size %d; later entries not covered' % r['truncation_checked_to'])
                             if r['truncation_checked'] and cut else 'ruled out by a trusted checkpoint' if r['truncation_checked'] else
                             'NOT checked: no checkpoint from outside the log (a tail cut with the checkpoint file is undetectable)'),
           r['first_invalid'] is not None and 'first invalid entry: seq %d' % r['first_invalid']] + \
          (['key %s%s: entries %d to %s' % (k['key'], ' (trusted)' if k['trusted'] else '', k['first'], 'none' if k['last'] is None else k['last'])
            for k in r['keys']] if len(r.get('keys', [])) > 1 else [])
    out += ['revoked %s after size %d: %s' % (v['key'], v['point'], 'entries %d to %d are covered only by it (NOT trusted)' % (
        v['first'], v['last']) if v['count'] else 'no entry depends on it') for v in r.get('revoked', [])]
    return '\n'.join([line for line in out if line] + ['problem: ' + p for p in r['problems']])

def main():
    ap = argparse.ArgumentParser(description='Verify a sealog log (docs/FORMAT.md §9). Exit 0 valid, 1 invalid, 2 usage, 3 unreadable.')
    ap.add_argument('dir')
    ap.add_argument('--key', help='the verifier key, or a file holding it (default: the key in sealog.json)')
    ap.add_argument('--keys', help='a file of trusted verifier keys, one a line (# comments); any key of the chain will do (§5a)')
    ap.add_argument('--checkpoint', action='append', default=[], help='a trusted signed checkpoint file (repeatable)')
    ap.add_argument('--all-signatures', action='store_true', help='verify every batch signature')
    ap.add_argument('--revocations', action='append', default=[], help='a revocation statement file (docs/KEYS.md; repeatable)')
    ap.add_argument('--witness', action='append', default=[], help="a trusted witness's cosignature/v1 key, or a file holding it (repeatable)")
    ap.add_argument('--json', action='store_true', help='print one JSON object')
    a = ap.parse_args()
    try:
        key = pathlib.Path(a.key).read_text() if a.key and os.path.isfile(a.key) else a.key  # key text, or a .pub file
        keys = ([key.strip()] if key else []) + ([ln.strip() for ln in pathlib.Path(a.keys).read_text().splitlines()
                                                 if ln.strip() and not ln.strip().startswith('#')] if a.keys else [])
        [Key(k) for k in keys]  # a malformed key is a usage error
    except (OSError, ValueError) as e:
        print('verify.py: %s' % e, file=sys.stderr)
        return 2
    try:
        trusted = [('--checkpoint ' + path, read_small(path)) for path in a.checkpoint]
        revs = [(path, pathlib.Path(path).read_bytes()) for path in a.revocations]
        r = verify(a.dir, keys or None, trusted, a.all_signatures, revocations=revs, witnesses=a.witness)
    except (OSError, InputError) as e:  # the log or an input cannot be read
        r = dict(valid=False, verdict='error', error=str(e), entries=0, authenticated=0, first_invalid=None, problems=[str(e)])
        print(json.dumps(r) if a.json else 'cannot verify: %s' % e)
        return 3
    return print(json.dumps(r) if a.json else human(r)) or (0 if r['valid'] else 1)

if __name__ == '__main__':
    sys.exit(main())
