/** Helpers of the inventory unit tests: temporary inventories, and the problems an InputError carries. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError, type InputProblem } from '../../src/core/errors.js';

/** The problems of the InputError `fn` throws (exit code 4); fails when it throws nothing or something else. */
export function problemsOf(fn: () => unknown): InputProblem[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof InputError) {
      if (e.exitCode !== 4) throw new Error(`InputError with exit code ${e.exitCode}, expected 4`);
      return e.problems;
    }
    throw e;
  }
  throw new Error('expected an InputError');
}

/** A temporary inventory directory holding `files` (relative paths, parents created). */
export function tempInventory(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'orch-inv-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}
