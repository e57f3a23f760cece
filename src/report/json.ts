/** `--json`: one JSON object per event on stdout, secrets masked in every string. */
import type { RunEvent } from './events.js';

export function jsonReporter(write: (s: string) => void, mask: (s: string) => string): (e: RunEvent) => void {
  return (e) => write(JSON.stringify({ ts: new Date().toISOString(), ...e }, (_k, v) => (typeof v === 'string' ? mask(v) : v)) + '\n');
}
