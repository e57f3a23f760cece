/**
 * The two scripts sent to a host per phase, and their parsers:
 *   facts script: every fact command, each framed by markers, run once;
 *   apply script: every change (and the pending actions and handlers it needs), each framed by markers,
 *                 stopping at the first failure.
 * Markers start with the ASCII record separator (\x1e), which configuration output does not contain.
 */
import type { Fact } from '../ops/types.js';

const RS = '\x1e';

export function factsScript(facts: Fact<unknown>[]): string {
  const lines = ['#!/bin/sh', 'export LC_ALL=C PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH"'];
  facts.forEach((f, i) => {
    lines.push(`printf '\\036F ${i}\\n'`);
    lines.push(`( ${f.command}\n) </dev/null 2>/dev/null`);
    lines.push(`printf '\\n\\036E ${i} %s\\n' "$?"`);
  });
  return lines.join('\n') + '\n';
}

/** Split the facts script's stdout into each fact's stdout and exit code. */
export function parseFactsOutput(out: string, count: number): Array<{ stdout: string; code: number }> {
  const res: Array<{ stdout: string; code: number }> = [];
  let pos = 0;
  for (let i = 0; i < count; i++) {
    const start = out.indexOf(`${RS}F ${i}\n`, pos);
    if (start < 0) throw new Error(`facts output is missing fact ${i} (the script was cut short)`);
    const bodyStart = start + `${RS}F ${i}\n`.length;
    const endMarker = `\n${RS}E ${i} `;
    const end = out.indexOf(endMarker, bodyStart);
    if (end < 0) throw new Error(`facts output is missing the end of fact ${i}`);
    const nl = out.indexOf('\n', end + endMarker.length);
    const code = Number(out.slice(end + endMarker.length, nl < 0 ? undefined : nl));
    res.push({ stdout: out.slice(bodyStart, end), code });
    pos = nl < 0 ? out.length : nl;
  }
  return res;
}

export interface ApplyStep {
  /** index reported back in markers */
  id: number;
  script: string;
}

export function applyScript(steps: ApplyStep[]): string {
  const lines = ['#!/bin/sh', 'export LC_ALL=C DEBIAN_FRONTEND=noninteractive PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH"', 'umask 022'];
  for (const s of steps) {
    lines.push(`printf '\\036B ${s.id}\\n'`);
    lines.push(`( set -e\n${s.script}\n) </dev/null 2>&1`);
    lines.push(`rc=$?; printf '\\n\\036R ${s.id} %s\\n' "$rc"; [ "$rc" -eq 0 ] || exit 0`);
  }
  lines.push(`printf '\\036DONE\\n'`);
  return lines.join('\n') + '\n';
}

export interface StepOutcome {
  id: number;
  code: number;
  output: string;
  /** reasons given by `\x1eSKIP <reason>` lines */
  skips: string[];
}

/** Outcomes of the steps that ran, in order; the last one failed if its code is not 0. */
export function parseApplyOutput(out: string): { steps: StepOutcome[]; complete: boolean } {
  const steps: StepOutcome[] = [];
  const re = new RegExp(`${RS}B (\\d+)\\n([\\s\\S]*?)\\n${RS}R \\1 (\\d+)\\n`, 'g');
  let m: RegExpExecArray | null;
  while ((m = re.exec(out))) {
    const body = m[2];
    const skips: string[] = [];
    const kept: string[] = [];
    for (const line of body.split('\n')) {
      if (line.startsWith(`${RS}SKIP `)) skips.push(line.slice(6));
      else kept.push(line);
    }
    steps.push({ id: Number(m[1]), code: Number(m[3]), output: kept.join('\n').trim(), skips });
  }
  return { steps, complete: out.includes(`${RS}DONE\n`) };
}
