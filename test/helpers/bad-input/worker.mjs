// A child process that runs bad-input cases through orch's real loaders (see ./run-case.ts), so that the test
// can bound each case's time and memory: a case that loops forever is cut off by killing this process, which
// the test reports as a hang; one that exhausts memory kills only this process, reported as a crash.
import { register } from 'node:module';

register('./ts-loader.mjs', import.meta.url);
const { runCase } = await import('./run-case.ts');

process.on('message', async (msg) => {
  const result = await runCase(msg.dir, msg.case);
  process.send({ id: msg.id, result });
});
process.send({ ready: true });
