/** A small unified diff (LCS over lines) for `--diff`: files are config-sized. */
import type { FileDiff } from '../ops/types.js';

export function unifiedDiff(d: FileDiff, context = 3): string {
  const a = d.before === undefined ? [] : splitLines(d.before);
  const b = splitLines(d.after);
  const n = a.length;
  const m = b.length;
  if (n * m > 4_000_000) return `--- ${d.path}\n+++ ${d.path}\n(file too large to diff: ${n} -> ${m} lines)`;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const ops: Array<{ t: ' ' | '-' | '+'; s: string }> = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      ops.push({ t: ' ', s: a[i] });
      i++;
      j++;
    } else if (i < n && (j >= m || lcs[i + 1][j] >= lcs[i][j + 1])) ops.push({ t: '-', s: a[i++] });
    else ops.push({ t: '+', s: b[j++] });
  }
  const out = [`--- ${d.before === undefined ? '/dev/null' : d.path}`, `+++ ${d.path}`];
  const keep = ops.map((o, k) => o.t !== ' ' || ops.slice(Math.max(0, k - context), k + context + 1).some((x) => x.t !== ' '));
  let inHunk = false;
  ops.forEach((o, k) => {
    if (!keep[k]) {
      inHunk = false;
      return;
    }
    if (!inHunk) out.push('@@');
    inHunk = true;
    out.push(`${o.t}${o.s}`);
  });
  return out.join('\n');
}

function splitLines(s: string): string[] {
  const l = s.split('\n');
  if (l[l.length - 1] === '') l.pop();
  return l;
}
