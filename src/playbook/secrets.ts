/** Secret hygiene: placeholder detection and masking of secret values in any text shown to a person. */

const PLACEHOLDER = /^(changeme|change[-_ ]?me|changeit|todo|tbd|xxx+|placeholder|secret|password|<[^>]*>|\$\{[^}]*\}|replace[-_ ]?me)$/i;

/** A secret left at a placeholder value: the run refuses it. */
export function isPlaceholder(v: unknown): boolean {
  return typeof v === 'string' && (v.trim() === '' || PLACEHOLDER.test(v.trim()));
}

/**
 * Replace every occurrence of any secret value with `***` (longest first, so overlaps mask fully). Given a Set,
 * values added to it later (cluster values generated during the run) are masked too.
 */
export function makeMasker(secrets: Iterable<string>): (s: string) => string {
  const live = secrets instanceof Set ? secrets : null;
  let size = -1;
  let re: RegExp | null = null;
  const build = () => {
    const list = [...new Set(secrets)].filter((s) => s.length >= 3).sort((a, b) => b.length - a.length);
    re = list.length ? new RegExp(list.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g') : null;
    size = live ? live.size : 0;
  };
  build();
  return (s) => {
    if (live && live.size !== size) build();
    return re ? s.replace(re, '***') : s;
  };
}
