/** Exit codes, as documented in README and `orch --help`. */
export const EXIT = {
  ok: 0,
  internal: 1,
  hostFailed: 2,
  hostUnreachable: 3,
  badInput: 4,
} as const;

/** One problem with the user's input: which file, where, which key, and what is expected. */
export interface InputProblem {
  file: string;
  line?: number;
  /** dotted key path inside the file, e.g. `all.children.kafka.hosts.vm1.kafka_heap` */
  key?: string;
  message: string;
}

export function formatProblem(p: InputProblem): string {
  const where = p.line ? `${p.file}:${p.line}` : p.file;
  return p.key ? `${where}: ${p.key}: ${p.message}` : `${where}: ${p.message}`;
}

/** Bad input (inventory, playbook, variables): every problem found, reported at once; exit code 4. */
export class InputError extends Error {
  readonly exitCode = EXIT.badInput;
  constructor(readonly problems: InputProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'InputError';
  }
}
