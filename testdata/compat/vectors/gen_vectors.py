#!/usr/bin/env python3
"""Generate the Python reference vectors used by compat's Go tests.

pyfloat.tsv: <float64 bits hex> TAB <repr(float)> (json.dumps prints floats with repr)
canon.jsonl: {"in": JSON text, "spanforge": canonical or null on error,
              "spine": canonical or "FLOAT" / null on error}
Run with CPython 3.11 (python3 gen_vectors.py); the output is deterministic.
"""
import json, math, random, struct, unicodedata

random.seed(20260302)

def bits(f):
    return struct.pack('>d', f).hex()

floats = [0.0, -0.0, 1.0, -1.0, 0.1, 0.5, 100.0, 1e-07, 1e+16, 0.000123, 412.5, 88.0,
          1e-4, 1e-5, 9.999e-5, 0.0001, 0.00011, 1e15, 9999999999999998.0, 1e16, 1.5e16,
          123456789012345678.0, 1e22, 1e23, 5e-324, 2.2250738585072014e-308,
          1.7976931348623157e308, math.pi, math.e, 1/3, 2/3, 1e300 * 10, 1.5e300,
          float('inf'), float('-inf'), 1234567.0, 0.3, 2.5e-5, 123.456, -1e-10, 1e100]
for _ in range(1500):
    b = random.getrandbits(64)
    f = struct.unpack('>d', b.to_bytes(8, 'big'))[0]
    if math.isnan(f):
        continue
    floats.append(f)
for _ in range(1000):
    e = random.randint(-8, 20)
    m = random.randint(1, 10**random.randint(1, 17))
    floats.append(float(f"{m}e{e}") * random.choice([1, -1]))
    floats.append(round(random.uniform(-1e6, 1e6), random.randint(0, 8)))

with open('pyfloat.tsv', 'w') as out:
    for f in floats:
        out.write(f"{bits(f)}\t{json.dumps(f)}\n")

inputs = [
    '{"b":1,"a":2}',
    '{"a": 1, "a": 2}',
    '{"x": 1000, "y": 1000.0, "z": 1e3, "w": 1E-7, "v": -0, "u": -0.0}',
    '{"big": 18446744073709551616, "neg": -98765432109876543210987654321}',
    '{"nan": NaN, "inf": Infinity, "ninf": -Infinity}',
    '{"huge": 1e400, "tiny": 1e-400, "sub": 4.9e-324}',
    '{"s": "line1\\nline2\\t\\"q\\" back\\\\slash \\u2028 sep \\u0001 ctl \\u007f del \\/ slash"}',
    '{"emoji": "\\ud83d\\udd12", "raw": "\U0001f512", "city": "\\u6771\\u4eac"}',
    '{"\\ue000": "pua", "\\ud83d\\ude00": "emoji", "Z": 1, "a": 2, "e\\u0301": "nfd", "\\u00e9": "nfc"}',
    '{"cafe\\u0301": 1, "caf\\u00e9": 2}',
    '{"n": {"b": [3, 2, 1], "a": {"z": null, "y": true, "x": false}}, "e": {}, "l": []}',
    '{"lone": "\\ud800"}',
    '{"lonekey\\udc00": 1}',
    '{"ctl": "\\u0000\\u001f\\u0008\\u000c\\u000b"}',
    '{"sep": "\u2028\u2029\u0085\u000b\u000c\u001c"}',
    '["a", 1, 2.5, {"k": "v"}]',
    '"just a string"',
    '12345678901234567890123456789',
    '{"f": 0.1, "g": 100.0, "h": 1e16, "i": 1.5e300, "j": 123456789012345678}',
    '{"mix": [1, 1.0, -1, -1.0, 0, -0, 0.0, -0.0]}',
    '{"hangul": "\u1100\u1161\u11a8", "ohm": "\u2126", "angstrom": "\u212b"}',
    '{"k": "\u1e9b\u0323"}',
    '{ "spaced" : [ 1 , 2 ] , "x" : { } }',
    '{"deep": [[[[[[[[[[1]]]]]]]]]]}',
    '{"esc": "\\u00E9\\u00e9"}',
    '{"a": 1e5, "b": 1.0e+5, "c": 100000.0, "d": 12e-1}',
]
for _ in range(300):
    def rnd(d=0):
        t = random.random()
        if d > 3 or t < 0.3:
            c = random.choice(['int', 'big', 'float', 'str', 'bool', 'null'])
            if c == 'int': return random.randint(-1000, 1000)
            if c == 'big': return random.randint(-10**30, 10**30)
            if c == 'float': return random.choice([random.uniform(-1e20, 1e20), random.random() * 1e-6, float(random.randint(0, 99))])
            if c == 'str': return ''.join(random.choice('abcé\u0301e\u2028\t\n"\\\x01\U0001f600\ue000ö\u212b') for _ in range(random.randint(0, 8)))
            if c == 'bool': return random.random() < 0.5
            return None
        if t < 0.6:
            return [rnd(d + 1) for _ in range(random.randint(0, 4))]
        return {''.join(random.choice('abZé\u0301\U0001f600\ue000_') for _ in range(random.randint(0, 4))): rnd(d + 1) for _ in range(random.randint(0, 5))}
    v = rnd()
    inputs.append(json.dumps(v, ensure_ascii=random.random() < 0.5, separators=random.choice([(', ', ': '), (',', ':')])))

def nfc(v):
    if isinstance(v, float):
        raise TypeError('float')
    if isinstance(v, str):
        return unicodedata.normalize('NFC', v)
    if isinstance(v, list):
        return [nfc(x) for x in v]
    if isinstance(v, dict):
        return {unicodedata.normalize('NFC', k): nfc(x) for k, x in v.items()}
    return v

def dumps(v):
    return json.dumps(v, sort_keys=True, separators=(',', ':'), ensure_ascii=False)

with open('canon.jsonl', 'w') as out:
    for text in inputs:
        rec = {'in': text}
        try:
            v = json.loads(text)
        except Exception:
            rec['spanforge'] = None
            rec['spine'] = None
            out.write(json.dumps(rec) + '\n')
            continue
        try:
            s = dumps(v)
            s.encode('utf-8')
            rec['spanforge'] = s
        except Exception:
            rec['spanforge'] = None
        try:
            s = dumps(nfc(v))
            s.encode('utf-8')
            rec['spine'] = s
        except TypeError:
            rec['spine'] = 'FLOAT'
        except Exception:
            rec['spine'] = None
        out.write(json.dumps(rec) + '\n')
