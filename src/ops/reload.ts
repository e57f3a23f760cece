/**
 * `reloadThroughApi`: tell a running service to load its configuration over HTTP (Prometheus' and Alertmanager's
 * `POST /-/reload`), once per content. Facts are read before any file of the run changes, so the files on the host
 * cannot tell whether the running process has what orch writes now: the op keeps, in `marker`, the sha256 of the
 * content it last had loaded, and is ok when that equals the sha256 of `content` (what this run writes).
 */
import type { Operation } from './types.js';
import { command, type CommandFact } from './command.js';
import { q } from './quote.js';
import { sha256 } from './write.js';

export interface ReloadThroughApiOptions {
  /** the op's name, e.g. `prometheus: load prometheus.yml (POST /-/reload)` */
  name: string;
  /** the URL to POST, e.g. http://127.0.0.1:9090/-/reload */
  url: string;
  /** every file the reload loads, as this run writes it (concatenated) */
  content: string;
  /** a file on the host holding the sha256 of what was last loaded */
  marker: string;
}

export function reloadThroughApi(o: ReloadThroughApiOptions): Operation<CommandFact | null> {
  const want = sha256(Buffer.from(o.content));
  return command({
    name: o.name,
    run: `curl -fsS -X POST --max-time 30 ${q(o.url)}\nprintf '%s\\n' ${want} > ${q(o.marker)}`,
    unless: `[ "$(cat ${q(o.marker)} 2>/dev/null)" = ${want} ]`,
  });
}
