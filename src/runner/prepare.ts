/** Controller-side work before planning: operations that need it (artifact downloads) get it here. */
import type { Operation } from '../ops/types.js';

export interface Preparable {
  prepare(): Promise<void>;
}

function isPreparable(op: Operation): op is Operation & Preparable {
  return typeof (op as Partial<Preparable>).prepare === 'function';
}

export async function prepareOps(ops: Operation[]): Promise<void> {
  await Promise.all(ops.filter(isPreparable).map((op) => op.prepare()));
}
