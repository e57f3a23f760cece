/**
 * A file an op pushes through `uploads()` with its sha256 beside it (`<path>.sha256`): the host-side check, first in
 * the op's script. A mismatch removes both and fails the op; nothing is unpacked.
 */
import { q } from './quote.js';

export function checkPushedScript(path: string): string {
  const sum = `${path}.sha256`;
  return `if [ "$(sha256sum <${q(path)} | cut -c1-64)" != "$(head -c 64 ${q(sum)})" ]; then rm -f ${q(path)} ${q(sum)}; printf '%s\\n' ${q(`orch: ${path}: sha256 mismatch on the host`)} >&2; exit 1; fi`;
}
