/** Secret hygiene: placeholder detection and masking of secret values in any text shown to a person. */

const PLACEHOLDER = /^(changeme|change[-_ ]?me|changeit|todo|tbd|xxx+|placeholder|secret|password|<[^>]*>|\$\{[^}]*\}|replace[-_ ]?me)$/i;

/** A secret left at a placeholder value: the run refuses it. */
export function isPlaceholder(v: unknown): boolean {
  return typeof v === 'string' && (v.trim() === '' || PLACEHOLDER.test(v.trim()));
}

/** Replace every occurrence of any secret value with `***` (longest first, so overlaps mask fully). */
export function makeMasker(secrets: Iterable<string>): (s: string) => string {
  const list = [...new Set(secrets)].filter((s) => s.length >= 3).sort((a, b) => b.length - a.length);
  if (list.length === 0) return (s) => s;
  const re = new RegExp(list.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
  return (s) => s.replace(re, '***');
}
