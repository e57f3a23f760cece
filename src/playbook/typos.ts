/** Likely misspelt variables: a key no role declares that is one or two edits away from one that a role of the host declares. */

/** Levenshtein distance, bounded: returns `max + 1` as soon as the distance exceeds `max`. */
export function editDistance(a: string, b: string, max = 2): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      best = Math.min(best, cur[j]);
    }
    if (best > max) return max + 1;
    prev = cur;
  }
  return prev[b.length];
}

/** The declared name `key` probably meant, or undefined. */
export function suggestion(key: string, declared: Iterable<string>, known: Set<string>): string | undefined {
  if (known.has(key) || key.startsWith('ansible_') || key.length < 5) return undefined;
  let best: string | undefined;
  let bestD = 3;
  for (const d of declared) {
    const dist = editDistance(key, d);
    if (dist < bestD) {
      best = d;
      bestD = dist;
    }
  }
  return best;
}
