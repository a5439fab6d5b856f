#!/usr/bin/env python3
"""Independent verifier for sealog logs, written from docs/FORMAT.md alone (§n cites its sections); standard library
plus the `openssl` (Ed25519) and `zstd` commands. Usage: verify.py DIR [--key KEY] [--checkpoint FILE]... [--json]"""
import argparse, base64, calendar, functools, hashlib, json, os, pathlib, re, shutil, subprocess, sys, tempfile

MAXLINE, MAXPROBLEMS = 4 * 1024 * 1024, 100  # §3.1: a line is at most 4 MiB including its newline
SHA = lambda b: hashlib.sha256(b).digest()
HEAD = re.compile(rb'\{"seq":(0|[1-9][0-9]{0,19}),"time":"([^"]{30})","prev":"([0-9a-f]{64})",')  # §3.1
LIVE = re.compile(rb'"salt":"([0-9a-f]{32})","event":')
ERASED = re.compile(rb'"body_hash":"([0-9a-f]{64})"(?:,"sig":"([^"]*)")?\}\n\Z')
TIME = re.compile(rb'([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})\.([0-9]{9})Z')
SEGMENT = re.compile(r'([0-9]{20})\.jsonl(\.zst)?')  # §1
B64 = re.compile(r'(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?')

def b64(s, n=None):
    """Strict standard base64 (RFC 4648 §4), canonical, of exactly n bytes if n is given; else None."""
    s = s.decode('latin-1') if isinstance(s, bytes) else s  # any non-ASCII byte then fails B64
    raw = base64.b64decode(s) if B64.fullmatch(s) else None
    return raw if raw is not None and base64.b64encode(raw).decode() == s and n in (None, len(raw)) else None

class Key:
    """§2, §6.1: a note verifier key <name>+<8 hex: keyhash>+<base64(0x01 ‖ Ed25519 public key)>."""

    def __init__(self, text):
        self.text = text.strip()
        parts = self.text.split('+', 2)  # the base64 may hold '+'; the name may not (§2)
        raw = b64(parts[2], 33) if len(parts) == 3 else None
        if not raw or raw[0] != 1 or not parts[0] or SHA(parts[0].encode() + b'\n' + raw)[:4].hex() != parts[1]:
            raise ValueError('not a note verifier key <name>+<keyhash>+<base64 key>, or a wrong keyhash: %r' % self.text)
        self.name, self.pub, self.hash = parts[0], raw[1:], bytes.fromhex(parts[1])  # keyhash: §6.1

    @functools.lru_cache(maxsize=64)
    def verify(self, msg, sig):
        """Ed25519 (RFC 8032) with openssl: True, False, or None when it could not be checked."""
        if len(sig) != 68 or sig[:4] != self.hash:
            return False  # not a signature by this key
        if not shutil.which('openssl'):
            return None
        spki = bytes.fromhex('302a300506032b6570032100') + self.pub  # DER SubjectPublicKeyInfo, as PEM:
        pem = b'-----BEGIN PUBLIC KEY-----\n%s\n-----END PUBLIC KEY-----\n' % base64.b64encode(spki)
        with tempfile.TemporaryDirectory() as d:
            for name, data in (('pub.pem', pem), ('msg', msg), ('sig', sig[4:])):
                pathlib.Path(d, name).write_bytes(data)
            r = subprocess.run(['openssl', 'pkeyutl', '-verify', '-pubin', '-inkey', pathlib.Path(d, 'pub.pem'), '-rawin',
                                '-in', pathlib.Path(d, 'msg'), '-sigfile', pathlib.Path(d, 'sig')], capture_output=True)
        out = r.stdout + r.stderr  # True: verified; False: a bad signature; None: openssl itself failed
        return r.returncode == 0 and b'Verified Successfully' in out or (False if b'Failure' in out else None)

def parse_checkpoint(data, key, origin):
    """§6.1: a signed note holding a checkpoint → (size, root, signature ok/False/None), or an error string."""
    i = data.rfind(b'\n\n')  # the text, a blank line, the signature lines
    if i < 0 or not data.endswith(b'\n'):
        return 'not a signed note'
    text, sig = data[:i + 1], None
    for line in data[i + 2:-1].decode('utf-8', 'replace').split('\n'):  # "— <key name> <base64(keyhash ‖ sig)>"
        m = re.fullmatch('\u2014 (\\S+) (\\S+)', line)
        raw = b64(m[2]) if m else None
        if raw is None or len(raw) < 5:
            return 'malformed signature line %r' % line
        if m[1] == key.name and raw[:4] == key.hash:
            sig = raw
    body = text.decode('utf-8', 'replace').split('\n')  # origin, size, base64 root, extension lines
    if len(body) < 4 or body[0] != origin or not re.fullmatch('0|[1-9][0-9]*', body[1]) or not b64(body[2], 32):
        return 'not a checkpoint of origin %s' % origin
    return (int(body[1]), b64(body[2], 32), key.verify(text, sig)) if sig else 'not signed by the key'

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
    """§3.1: an exact entry line → (seq, time_ns, prev, body_hash, sig or None, erased), or an error string."""
    if not (m := HEAD.match(line)):
        return 'not in the exact form of §3.1 (seq, time or prev)'
    seq, t, prev, rest = int(m[1]), time_ns(m[2]), bytes.fromhex(m[3].decode()), line[m.end():]
    if seq >= 1 << 64 or t is None:
        return 'seq or time out of range'
    if e := ERASED.match(rest):  # §5: an erased entry; BODYHASH is its body hash
        bh, sig, erased = bytes.fromhex(e[1].decode()), e[2], True
    else:
        if not (m := LIVE.match(rest)):
            return 'neither a live nor an erased entry line'
        event, sig, erased = rest[m.end():-2], None, False
        if rest.endswith(b'"}\n'):  # then it ends with ,"sig":"SIG"}
            i = event.rfind(b',"sig":"')
            event, sig = (event[:i], event[i + 8:-1]) if i >= 0 else (b'', None)
        elif not rest.endswith(b'}}\n'):
            return 'the line ends in neither }} nor "}'
        if not (event.startswith(b'{"kind":"') and event.endswith(b'}')):
            return 'EVENT is not an event object (§3.2)'
        bh = SHA(bytes.fromhex(m[1].decode()) + event)  # §4.1 body hash
    if sig is not None and not b64(sig, 68):
        return 'SIG is not base64 of a keyhash and an Ed25519 signature'
    return seq, t, prev, bh, (b64(sig) if sig is not None else None), erased

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

class Scan:
    """§9 step 3 (and step 4 for every batch up to the first bad one, when all_sigs): one pass over the segments."""

    def __init__(self, origin, key, want, all_sigs, tail=None):
        self.origin, self.key, self.want, self.all_sigs, self.tail_break = origin, key, want, all_sigs, tail
        self.tree, self.roots, self.problems, self.first_bad, self.newest = Tree(), {0: SHA(b'')}, [], None, None
        self.entries = self.expect = self.erased = self.torn = self.unsigned = self.batch_start = 0
        self.auth = self.checked = self.unchecked = self.omitted = 0
        self.prev_leaf, self.prev_time, self.pending = bytes(32), 0, None  # entry 0's PREV is 32 zero bytes (§4.3)

    def problem(self, msg, seq=None):
        if seq is not None:
            self.first_bad = seq if self.first_bad is None else min(self.first_bad, seq)
        self.omitted += len(self.problems) >= MAXPROBLEMS  # memory must not grow with the log
        self.problems += [msg if seq is None else 'entry %d: %s' % (seq, msg)][:MAXPROBLEMS - len(self.problems)]

    def signature(self, size, root, sig):
        """§6.2: a batch signature, on the checkpoint its line implies."""
        ok = self.key.verify(b'%s\n%d\n%s\n' % (self.origin.encode(), size, base64.b64encode(root)), sig)
        self.checked, self.unchecked = self.checked + (ok is not None), self.unchecked + (ok is None)
        self.auth = max(self.auth, size) if ok else self.auth
        return ok

    def resolve(self, prev):
        """§9: entry n's PREV did not match entry n−1: n−1 was changed if entry n+1 chains to n, else n."""
        if self.pending:
            (n, leaf), self.pending = self.pending, None
            self.problem("changed (entry %d's prev is not entry %d's leaf hash)" % (n, n - 1), max(n - 1, 0) if prev == leaf else n)

    def bad_line(self, where, why):  # a line that does not parse is at fault itself
        self.resolve(None)
        self.problem('%s: %s' % (where, why), self.expect)
        self.entries, self.unsigned, self.prev_leaf, self.expect = self.entries + 1, self.unsigned + 1, None, self.expect + 1

    def segment(self, name, f, last):
        """§3.3: the lines of one segment, up to NUL padding, a torn line or the end."""
        for n, line in enumerate(iter(lambda: f.readline(MAXLINE + 1), b''), 1):
            where = 'segment %s line %d' % (name, n)
            if 0 in line or len(line) <= MAXLINE and not line.endswith(b'\n'):
                # a torn line (no newline) and/or padding: zero bytes from the start of a line to the end of the file
                torn, pad = line.split(b'\0', 1) if 0 in line else (line, b'')
                junk = len(pad) - pad.count(0) + sum(len(c) - c.count(0) for c in iter(lambda: f.read(1 << 20), b''))
                if junk:
                    self.problem(where + ': non-zero bytes after padding', self.expect)
                elif not last:
                    self.problem(where + ': a torn line or padding in a segment other than the last', self.expect)
                self.torn += len(torn) if last else 0
            elif len(line) > MAXLINE:
                while line and not line.endswith(b'\n'):
                    line = f.readline(MAXLINE + 1)
                self.bad_line(where, 'longer than 4 MiB')
            else:
                self.entry(where, line, int(name) if n == 1 else None)

    def entry(self, where, line, named=None):
        """§9 step 3 for one line; named is the seq in the segment's name, for its first line."""
        if isinstance(p := parse_line(line), str):
            return self.bad_line(where, p)
        seq, t, prev, bh, sig, erased = p
        self.entries, self.erased, self.unsigned = self.entries + 1, self.erased + erased, self.unsigned + 1
        if named is not None and seq != named:  # the first line of a segment has the seq of its name
            self.problem('%s: seq %d in the segment named %d' % (where, seq, named), min(seq, self.expect))
        in_order = seq == self.expect
        self.resolve(prev if in_order else None)
        if not in_order:  # at fault itself (a repeated seq names the entry repeated); resynchronise on its seq
            self.problem('%s: seq %d where %d was expected' % (where, seq, self.expect), min(seq, self.expect))
            self.expect = seq
        if t < self.prev_time:
            self.problem(where + ': time earlier than the previous entry', seq)
        header = b'\x01' + seq.to_bytes(8, 'big') + t.to_bytes(8, 'big', signed=True) + prev + bh  # §4.2
        leaf = SHA(b'\x00' + header)  # §4.3
        if in_order and self.prev_leaf is not None and prev != self.prev_leaf:
            self.pending = (seq, leaf)  # decided by the next line (resolve)
        self.tree.add(leaf)
        if self.tree.n in self.want:
            self.roots[self.tree.n] = self.tree.root()
        self.prev_leaf, self.prev_time, self.expect = leaf, t, seq + 1
        if sig is not None:  # the last line of a batch (§6.2)
            batch, self.batch_start, self.unsigned = self.batch_start, seq + 1, 0
            self.newest = (seq + 1, self.tree.root(), sig)
            if self.all_sigs and self.signature(*self.newest) is False:
                self.all_sigs = False  # the first bad batch is found; later ones are not checked
                t = self.tail_break  # a break at the last entry n inside this batch: the chain narrows it to n−1 (§9)
                self.problem('the signature of the batch %d…%d does not verify' % (batch, seq), batch if not t or seq < t - 1 else t - 1)

    def run(self, d):
        """§1, §3.4: the segments in name order; NAME.jsonl wins over NAME.jsonl.zst."""
        sd = os.path.join(d, 'segments')  # in reverse order NAME.jsonl comes after, so replaces, NAME.jsonl.zst
        files = sorted(os.listdir(sd), reverse=True) if os.path.isdir(sd) else []
        found = {m[1]: os.path.join(sd, f) for f in files if (m := SEGMENT.fullmatch(f))}
        for i, (name, path) in enumerate(sorted(found.items())):
            if (zst := path.endswith('.zst')) and not shutil.which('zstd'):
                raise OSError('the zstd command is not installed: cannot read the compressed segment ' + path)
            proc = zst and subprocess.Popen(['zstd', '-dcq', '--', path], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            with proc.stdout if zst else open(path, 'rb') as f:
                self.segment(name, f, i == len(found) - 1)
            if zst and proc.wait() != 0:
                self.problem('segment %s: zstd could not decompress it' % name, self.expect)
        self.tail_break = self.pending and self.pending[0]  # a break at the last entry: a batch signature may say more
        self.resolve(None)

def verify(d, key_text, trusted, all_sigs=False, tail=None):
    """§9: the whole procedure; returns the report."""
    try:  # step 1
        meta = json.loads(pathlib.Path(d, 'sealog.json').read_bytes())
        if meta['format'] != 'sealog/v1' or not isinstance(meta['origin'], str):  # §2, §10: reject unknown versions
            raise ValueError('format %r is not sealog/v1, or origin %r is not a string' % (meta['format'], meta['origin']))
        origin, key = meta['origin'], Key(meta['key'] if key_text is None else key_text)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise OSError('no usable sealog.json (%s): not a sealog v1 log' % e)
    cp = pathlib.Path(d, 'checkpoint')  # step 2: the checkpoint file, read before the segments
    cps = [('checkpoint file', cp.read_bytes())] if cp.exists() else []
    cps = [(src, parse_checkpoint(data, key, origin)) for src, data in cps + trusted]
    s = Scan(origin, key, {c[0] for _, c in cps if isinstance(c, tuple)}, all_sigs, tail)
    if key.name != origin:
        s.problem("the key's name %r is not the log's origin %r" % (key.name, origin))
    s.run(d)  # step 3 (an OSError means the log cannot be read: exit 3)
    if newest_bad := s.newest and not all_sigs and s.signature(*s.newest) is False:  # step 4
        s.problem('the newest batch signature (tree size %d) does not verify' % s.newest[0])
    truncated = checked = False
    for src, c in cps:  # step 5
        if isinstance(c, str) or c[2] is False:
            s.problem('%s: %s' % (src, c if isinstance(c, str) else 'its signature does not verify'))
            continue
        size, root, ok = c
        s.checked, s.unchecked = s.checked + (ok is not None), s.unchecked + (ok is None)
        checked = checked or bool(ok and src != 'checkpoint file')
        if size > s.expect:  # entries present: seqs 0 … expect−1
            truncated = True
            s.problem('%s covers %d entries but the log holds %d: truncated' % (src, size, s.expect), s.expect)
        elif s.roots.get(size) != root:
            s.problem('%s: its root is not the root of the tree of size %d' % (src, size))
        elif ok:
            s.auth = max(s.auth, size)
    if s.unchecked:
        s.problem('%d signatures NOT checked: %s' % (s.unchecked, 'openssl failed' if shutil.which('openssl') else 'no openssl command'))
    if not all_sigs and key.name == origin and (newest_bad and s.first_bad is None or s.tail_break and s.first_bad == s.tail_break):
        return verify(d, key_text, trusted, True, s.tail_break)  # §9: localise with every batch signature
    return {'valid': not s.problems, 'origin': origin, 'key': key.text, 'key_from_log': key_text is None,
            'entries': s.entries, 'authenticated': s.auth, 'first_invalid': s.first_bad, 'truncated': truncated,
            'truncation_checked': checked, 'erased_count': s.erased, 'unacknowledged': min(s.unsigned, s.entries - s.auth),
            'torn_bytes': s.torn, 'signatures_checked': s.checked, 'signatures_unchecked': s.unchecked,
            'problems': s.problems + (['… and %d more problems' % s.omitted] if s.omitted else [])}

def human(r):
    out = ['sealog log %s: %s' % (r['origin'], 'VALID' if r['valid'] else 'INVALID'),
           r['key_from_log'] and 'WARNING: no --key given: the key stored in the log was used, '
                                 'so this proves only that the log is consistent with that key',
           'entries: %d, authenticated: %d, erased: %d, unacknowledged: %d, signatures checked: %d'
           % (r['entries'], r['authenticated'], r['erased_count'], r['unacknowledged'], r['signatures_checked']),
           r['torn_bytes'] and 'a torn line of %d bytes at the end of the last segment is not part of the log' % r['torn_bytes'],
           'truncation: ' + ('TRUNCATED' if r['truncated'] else 'ruled out by a trusted checkpoint' if r['truncation_checked'] else
                             'NOT checked: no checkpoint from outside the log (a tail cut with the checkpoint file is undetectable)'),
           r['first_invalid'] is not None and 'first invalid entry: seq %d' % r['first_invalid']]
    return '\n'.join([line for line in out if line] + ['problem: ' + p for p in r['problems']])

def main():
    ap = argparse.ArgumentParser(description='Verify a sealog log (docs/FORMAT.md §9). Exit 0 valid, 1 invalid, 2 usage, 3 unreadable.')
    ap.add_argument('dir')
    ap.add_argument('--key', help='the verifier key, or a file holding it (default: the key in sealog.json)')
    ap.add_argument('--checkpoint', action='append', default=[], help='a trusted signed checkpoint file (repeatable)')
    ap.add_argument('--json', action='store_true', help='print one JSON object')
    a = ap.parse_args()
    try:
        key = pathlib.Path(a.key).read_text() if a.key and os.path.isfile(a.key) else a.key  # key text, or a .pub file
        key is None or Key(key)  # a malformed key is a usage error
        trusted = [('trusted checkpoint ' + path, pathlib.Path(path).read_bytes()) for path in a.checkpoint]
    except (OSError, ValueError) as e:
        print('verify.py: %s' % e, file=sys.stderr)
        return 2
    try:
        r = verify(a.dir, key, trusted)
    except OSError as e:  # the log cannot be read
        r = dict(valid=False, error=str(e), entries=0, authenticated=0, first_invalid=None, truncated=False,
                 truncation_checked=False, erased_count=0, problems=[str(e)], signatures_checked=0)
        print(json.dumps(r) if a.json else 'cannot read the log: %s' % e)
        return 3
    return print(json.dumps(r) if a.json else human(r)) or (0 if r['valid'] else 1)

if __name__ == '__main__':
    sys.exit(main())
