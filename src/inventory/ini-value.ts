/**
 * Value syntax of Ansible's INI inventories. Host lines are split like Python's `shlex.split(line,
 * comments=True)` (quotes group words and are removed, `#` outside quotes starts a comment). Each value is
 * then read like Python's `ast.literal_eval` (ints, floats, 'strings', True/False/None, [lists], {dicts},
 * (tuples)), falling back to the raw string. Beyond Ansible, true/false/yes/no/on/off in any case are
 * booleans, so that `ansible_become=yes` means what it says.
 */

/** Splits a host line into words; throws on an unclosed quote. */
export function shlexSplit(line: string, comments = true): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote === "'") {
      if (c === "'") quote = null;
      else cur += c;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) cur += line[++i];
      else cur += c;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else if (c === '#' && comments) {
      break;
    } else if (c === '\\') {
      if (i + 1 >= line.length) throw new Error('no character after a backslash');
      cur += line[++i];
      inWord = true;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) throw new Error('no closing quotation');
  if (inWord) words.push(cur);
  return words;
}

const BOOLEANS: Record<string, boolean> = { true: true, yes: true, on: true, false: false, no: false, off: false };

/** An INI value: a Python literal if it is one, a boolean word, else the string itself. */
export function parseIniValue(text: string): unknown {
  const bool = BOOLEANS[text.trim().toLowerCase()];
  if (bool !== undefined) return bool;
  if (/^\s/.test(text)) return text;
  try {
    const p = new LiteralParser(text);
    const v = p.value();
    p.end();
    return v;
  } catch {
    return text;
  }
}

/** A recursive-descent reader for the Python literal subset `ast.literal_eval` accepts. */
class LiteralParser {
  private i = 0;
  constructor(private readonly s: string) {}

  end(): void {
    this.ws();
    if (this.s[this.i] === '#') this.i = this.s.length;
    if (this.i !== this.s.length) throw new Error('trailing text');
  }

  value(): unknown {
    this.ws();
    const c = this.s[this.i];
    if (c === '[') return this.seq('[', ']');
    if (c === '(') return this.seq('(', ')');
    if (c === '{') return this.dictOrSet();
    if (c === '"' || c === "'" || (/[rRuUbB]/.test(c ?? '') && /["']/.test(this.s[this.i + 1] ?? ''))) return this.strings();
    const word = /^(True|False|None)(?![A-Za-z0-9_])/.exec(this.s.slice(this.i));
    if (word) {
      this.i += word[1].length;
      return word[1] === 'None' ? null : word[1] === 'True';
    }
    return this.number();
  }

  private ws(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i])) this.i++;
  }

  private seq(open: string, close: string): unknown[] {
    this.i++;
    const out: unknown[] = [];
    for (;;) {
      this.ws();
      if (this.s[this.i] === close) {
        this.i++;
        return out;
      }
      out.push(this.value());
      this.ws();
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== close) throw new Error(`expected , or ${close}`);
    }
  }

  private dictOrSet(): unknown {
    this.i++;
    const dict: Record<string, unknown> = {};
    const set: unknown[] = [];
    let isSet: boolean | undefined;
    for (;;) {
      this.ws();
      if (this.s[this.i] === '}') {
        this.i++;
        return isSet ? set : dict;
      }
      const k = this.value();
      this.ws();
      if (this.s[this.i] === ':') {
        if (isSet) throw new Error('mixed set and dict');
        isSet = false;
        this.i++;
        dict[String(k)] = this.value();
      } else {
        if (isSet === false) throw new Error('mixed set and dict');
        isSet = true;
        set.push(k);
      }
      this.ws();
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== '}') throw new Error('expected , or }');
    }
  }

  /** adjacent string literals concatenate, as in Python */
  private strings(): string {
    let out = this.string();
    for (;;) {
      const save = this.i;
      this.ws();
      const c = this.s[this.i];
      if (c === '"' || c === "'" || (/[rRuU]/.test(c ?? '') && /["']/.test(this.s[this.i + 1] ?? ''))) out += this.string();
      else {
        this.i = save;
        return out;
      }
    }
  }

  private string(): string {
    let raw = false;
    while (/[rRuUbB]/.test(this.s[this.i])) {
      if (/[bB]/.test(this.s[this.i])) throw new Error('bytes literal');
      if (/[rR]/.test(this.s[this.i])) raw = true;
      this.i++;
    }
    const q = this.s[this.i];
    const triple = this.s.startsWith(q.repeat(3), this.i);
    const delim = triple ? q.repeat(3) : q;
    this.i += delim.length;
    let out = '';
    while (!this.s.startsWith(delim, this.i)) {
      if (this.i >= this.s.length) throw new Error('unterminated string');
      const c = this.s[this.i++];
      if (c === '\n' && !triple) throw new Error('newline in string');
      if (c !== '\\' || raw) {
        out += c;
        continue;
      }
      const e = this.s[this.i++];
      const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v', '0': '\0', '\n': '' };
      if (e in simple) out += simple[e];
      else if (e === 'x' || e === 'u' || e === 'U') {
        const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
        const hex = this.s.slice(this.i, this.i + n);
        if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(hex)) throw new Error('bad escape');
        out += String.fromCodePoint(parseInt(hex, 16));
        this.i += n;
      } else out += `\\${e}`;
    }
    this.i += delim.length;
    return out;
  }

  private number(): number {
    const m = /^[-+]?(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:\d[\d_]*)?\.?\d[\d_]*(?:[eE][-+]?\d+)?|\d[\d_]*\.)(?![A-Za-z0-9_.])/.exec(this.s.slice(this.i));
    if (!m) throw new Error('not a literal');
    this.i += m[0].length;
    let t = m[0].replace(/_/g, '');
    const neg = t.startsWith('-');
    t = t.replace(/^[-+]/, '');
    let n: number;
    if (/^0[xX]/.test(t)) n = parseInt(t.slice(2), 16);
    else if (/^0[oO]/.test(t)) n = parseInt(t.slice(2), 8);
    else if (/^0[bB]/.test(t)) n = parseInt(t.slice(2), 2);
    else if (/^0\d+$/.test(t) && /[1-9]/.test(t)) throw new Error('leading zeros'); // Python rejects 0755
    else n = Number(t);
    if (!Number.isFinite(n)) throw new Error('not a number');
    return neg ? -n : n;
  }
}
