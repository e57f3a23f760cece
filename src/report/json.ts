/**
 * `--json`: one JSON object per event on stdout, secrets masked in every string. A secret file's diff carries its path
 * and `masked: true` only, never its content: value masking alone would miss what a file derives from a secret (an
 * encoded credential, a hash), as the plain output omits it too.
 */
import type { RunEvent } from './events.js';

export function jsonReporter(write: (s: string) => void, mask: (s: string) => string): (e: RunEvent) => void {
  return (e) =>
    write(
      JSON.stringify({ ts: new Date().toISOString(), ...e }, (k, v) => {
        if (k === 'diff' && v && typeof v === 'object' && (v as { masked?: boolean }).masked) return { path: (v as { path: string }).path, masked: true };
        return typeof v === 'string' ? mask(v) : v;
      }) + '\n',
    );
}
