/**
 * Host entries as Ansible writes them in inventories: an optional `:port` suffix (`db1:2222`,
 * `[2001:db8::1]:2222`) and numeric or alphabetic ranges (`vm[01:10]`, `db-[a:c]`, `n[0:10:2]`),
 * several ranges per name allowed. Mirrors Ansible's `parse_address` + `expand_hostname_range`.
 */

/**
 * Hosts one entry may expand to: a range beyond this is a typo (`vm[0:999999999]`), which would otherwise take
 * minutes and all memory before any message; orch's fleets are hundreds of hosts.
 */
export const MAX_RANGE_HOSTS = 10_000;

/** A host name: DNS-like labels of letters, digits, `-` and `_` (inventory aliases use `_`), or an IPv4/IPv6 address. */
const HOST_NAME = /^[A-Za-z0-9_][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*$/;
const IPV6 = /^[0-9A-Fa-f:.]+$/;

/** Why `name` is no host name orch accepts (undefined when it is one). */
export function badHostName(name: string): string | undefined {
  if (HOST_NAME.test(name) || (IPV6.test(name) && (name.match(/:/g)?.length ?? 0) >= 2)) return undefined;
  const syntax = [...new Set(name.match(/[\s,:!&*?~[\]]/g) ?? [])].map((c) => (/\s/.test(c) ? 'a space' : `'${c}'`));
  return syntax.length
    ? `invalid host name '${name}': ${syntax.join(', ')} would be read as host pattern syntax (patterns split on , and :, ! excludes, & intersects, * ? [ ] glob, ~ starts a regex); a host name is letters, digits, '-', '_' and dots`
    : `invalid host name '${name}': a host name is letters, digits, '-', '_' and dots (not starting with '-' or '.'), or an IP address`;
}

export type HostPatternResult = { hosts: string[]; port?: number } | { error: string };

export function expandHostPattern(entry: string): HostPatternResult {
  const text = entry.trim();
  if (!text) return { error: 'empty host name' };
  if (text === '---') return { error: "host name '---' (is this file YAML?)" };
  const { name, port } = splitPort(text);
  if (port !== undefined && (port < 1 || port > 65535)) return { error: `port ${port} out of range 1..65535` };
  if (port === undefined && text.endsWith(':')) {
    return { error: `host '${text}' ends in ':', which is reserved for a port` };
  }
  let hosts: string[];
  try {
    hosts = name.includes('[') ? expandRanges(name) : [name];
  } catch (e) {
    return { error: `host range in '${text}': ${(e as Error).message}` };
  }
  const bad = hosts.map(badHostName).find(Boolean);
  return bad ? { error: bad } : { hosts, port };
}

/** `host:port` (the host part having no other `:` outside brackets), `[ipv6]:port`, or a bare name. */
function splitPort(text: string): { name: string; port?: number } {
  const v6 = /^\[([0-9A-Fa-f:.%]+)\](?::(\d+))?$/.exec(text);
  if (v6 && (v6[1].match(/:/g)?.length ?? 0) >= 2) return { name: v6[1], port: v6[2] ? Number(v6[2]) : undefined };
  const m = /^(.+):(\d+)$/.exec(text);
  if (m && !hasColonOutsideBrackets(m[1])) return { name: m[1], port: Number(m[2]) };
  return { name: text };
}

function hasColonOutsideBrackets(s: string): boolean {
  let depth = 0;
  for (const c of s) {
    if (c === '[') depth++;
    else if (c === ']') depth = Math.max(0, depth - 1);
    else if (c === ':' && depth === 0) return true;
  }
  return false;
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

function expandRanges(name: string): string[] {
  const open = name.indexOf('[');
  const close = name.indexOf(']', open);
  if (close < 0) throw new Error("'[' without ']'");
  const head = name.slice(0, open);
  const tail = name.slice(close + 1);
  const bounds = name.slice(open + 1, close).split(':');
  if (bounds.length !== 2 && bounds.length !== 3) throw new Error('a range must be [begin:end] or [begin:end:step]');
  const beg = bounds[0] || '0';
  const end = bounds[1];
  const step = bounds.length === 3 ? Number(bounds[2]) : 1;
  if (!end) throw new Error('a range must have an end');
  if (!Number.isInteger(step) || step < 1) throw new Error(`bad step '${bounds[2]}'`);
  let seq: string[];
  const ib = LETTERS.indexOf(beg);
  const ie = LETTERS.indexOf(end);
  if (beg.length === 1 && end.length === 1 && ib >= 0 && ie >= 0) {
    if (ib > ie) throw new Error('begin must be <= end');
    seq = [];
    for (let i = ib; i <= ie; i += step) seq.push(LETTERS[i]);
  } else {
    if (!/^\d+$/.test(beg) || !/^\d+$/.test(end)) throw new Error(`'${beg}:${end}' is neither numeric nor alphabetic`);
    const count = Math.floor((Number(end) - Number(beg)) / step) + 1;
    if (count > MAX_RANGE_HOSTS) throw new Error(`[${beg}:${end}] makes ${count} hosts, more than the ${MAX_RANGE_HOSTS} one entry may have`);
    const width = beg.length > 1 && beg.startsWith('0') ? beg.length : 0;
    if (width && width !== end.length) throw new Error('zero-padded begin and end must have the same length');
    seq = [];
    for (let i = Number(beg); i <= Number(end); i += step) seq.push(width ? String(i).padStart(width, '0') : String(i));
    if (seq.length === 0) throw new Error('begin must be <= end');
  }
  const out: string[] = [];
  for (const s of seq) {
    const host = head + s + tail;
    out.push(...(host.includes('[') ? expandRanges(host) : [host]));
    if (out.length > MAX_RANGE_HOSTS) throw new Error(`the ranges make more than the ${MAX_RANGE_HOSTS} hosts one entry may have`);
  }
  return out;
}
