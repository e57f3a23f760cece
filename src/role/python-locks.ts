/**
 * Where a Python service role keeps its locks (see src/ops/python-lock.ts for what a lock is): in the repository, as
 * roles/<role>/locks/<name>-<version>-py<python>.txt, one per release of the service and Python minor version. The
 * locks are made for CPython 3.11 (cp311 wheels: Debian 12's python3), the seeds' Python.
 */
import { join } from 'node:path';
import { projectRoot } from '../core/project.js';

/** the Python minor the locks are made for */
export const PYTHON_MINOR = '3.11';

export interface PythonLocks {
  /** the lock's file name for a release (`mlflow-2.19.0-py3.11.txt`) */
  fileName(version: string, python?: string): string;
  /** the lock on the controller, in the repository */
  onController(version: string, python?: string): string;
}

/** The locks of role `role`, named after `name` (default: the role's name). */
export function pythonLocks(role: string, name: string = role): PythonLocks {
  const fileName = (version: string, python = PYTHON_MINOR) => `${name}-${version}-py${python}.txt`;
  return { fileName, onController: (version, python) => join(projectRoot, 'roles', role, 'locks', fileName(version, python)) };
}
