/**
 * Ansible host patterns. A pattern is a list of terms separated by `,` (or `:` when there is no comma):
 *   all, *            every host
 *   kafka, vm1        a group's hosts (through children) or a host
 *   vm*, k?fka        shell globs over group names and host names
 *   ~vm[0-9]+         a regular expression (anchored at the start, like Python's re.match)
 *   kafka[0], [1:3]   a subscript of a term's hosts (inclusive range, as in Ansible)
 *   a:&b              intersection;  a:!b  exclusion
 * As in Ansible, unions are applied first, then intersections, then exclusions, whatever their position;
 * a pattern of only `&`/`!` terms starts from `all`. Results are in inventory order. A term that matches
 * nothing contributes nothing; callers decide whether an empty selection is an error.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Inventory } from './types.js';

export function selectHosts(inv: Inventory, pattern: string): string[] {
  const terms = splitPattern(pattern);
  const unions = terms.filter((t) => !t.startsWith('&') && !t.startsWith('!'));
  const ands = terms.filter((t) => t.startsWith('&')).map((t) => t.slice(1));
  const nots = terms.filter((t) => t.startsWith('!')).map((t) => t.slice(1));
  const selected = new Set<string>();
  for (const t of unions.length ? unions : ['all']) for (const h of matchTerm(inv, t)) selected.add(h);
  for (const t of ands) {
    const keep = new Set(matchTerm(inv, t));
    for (const h of [...selected]) if (!keep.has(h)) selected.delete(h);
  }
  for (const t of nots) for (const h of matchTerm(inv, t)) selected.delete(h);
  return [...inv.hosts.keys()].filter((h) => selected.has(h));
}

/**
 * `hosts` (in their order) restricted to those matching `limitPattern` (`--limit`); `@file` reads one
 * host pattern per line from a file, as Ansible's retry files.
 */
export function limitHosts(inv: Inventory, hosts: string[], limitPattern: string | undefined): string[] {
  if (!limitPattern) return hosts;
  const pattern = limitPattern.startsWith('@')
    ? readFileSync(resolve(limitPattern.slice(1)), 'utf8')
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter(Boolean)
        .join(',')
    : limitPattern;
  const allowed = new Set(selectHosts(inv, pattern));
  return hosts.filter((h) => allowed.has(h));
}

/** Ansible's split_host_pattern: commas if any; else colons, except inside `[...]` and in IPv6 addresses. */
export function splitPattern(pattern: string): string[] {
  const p = pattern.trim();
  let terms: string[];
  if (p.includes(',')) terms = p.split(',');
  else if (/^[0-9a-fA-F:]+$/.test(p) && (p.match(/:/g)?.length ?? 0) >= 2 && !/:[&!]/.test(p)) terms = [p];
  else terms = p.match(/(?:[^\s:[\]]|\[[^\]]*\])+/g) ?? [];
  return terms.map((t) => t.trim()).filter(Boolean);
}

/** Hosts of one term (no `&`/`!`), in inventory order. */
function matchTerm(inv: Inventory, term: string): string[] {
  if (inv.hosts.has(term)) return [term];
  const { base, subscript } = splitSubscript(term);
  let hosts = enumerate(inv, base);
  if (subscript) hosts = applySubscript(hosts, subscript);
  return hosts;
}

function enumerate(inv: Inventory, pattern: string): string[] {
  if (pattern === 'all' || pattern === '*') return [...inv.hosts.keys()];
  const re = toRegExp(pattern);
  const selected = new Set<string>();
  const groups = [...inv.groups.keys()].filter((g) => re.test(g));
  for (const g of groups) for (const h of groupHosts(inv, g)) selected.add(h);
  if (!groups.length || pattern.startsWith('~') || /[.?*[]/.test(pattern)) {
    for (const h of inv.hosts.keys()) if (re.test(h)) selected.add(h);
  }
  return [...inv.hosts.keys()].filter((h) => selected.has(h));
}

/** Hosts in group `g`, directly or through children. */
function groupHosts(inv: Inventory, g: string): string[] {
  if (g === 'all') return [...inv.hosts.keys()];
  return [...inv.hosts.values()].filter((h) => h.groups.includes(g)).map((h) => h.name);
}

function toRegExp(pattern: string): RegExp {
  if (pattern.startsWith('~')) {
    try {
      return new RegExp(`^(?:${pattern.slice(1)})`);
    } catch {
      return /(?!)/;
    }
  }
  return new RegExp(`^${globToRegExp(pattern)}$`);
}

/** fnmatch: `*`, `?`, `[abc]`, `[!abc]`; everything else literal. */
function globToRegExp(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) {
        out += '\\[';
        continue;
      }
      let body = glob.slice(i + 1, end);
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      out += `[${body.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else out += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return out;
}

type Subscript = { index: number } | { start: number; end?: number };

/** `name[3]`, `name[-1]`, `name[1:3]`, `name[2:]` (not for `~regex` terms). */
function splitSubscript(term: string): { base: string; subscript?: Subscript } {
  if (term.startsWith('~')) return { base: term };
  const m = /^(.+)\[(?:(-?\d+)|(\d+):(\d*))\]$/.exec(term);
  if (!m) return { base: term };
  if (m[2] !== undefined) return { base: m[1], subscript: { index: Number(m[2]) } };
  return { base: m[1], subscript: { start: Number(m[3]), end: m[4] ? Number(m[4]) : undefined } };
}

function applySubscript(hosts: string[], s: Subscript): string[] {
  if ('index' in s) {
    const h = hosts.at(s.index);
    return h === undefined ? [] : [h];
  }
  return hosts.slice(s.start, s.end === undefined ? undefined : s.end + 1);
}
