/** `orch sim up|down|status`: simulated hosts for an inventory (src/sim). */
import { projectRoot } from '../../core/project.js';
import { inventoryDir, loadInventory } from '../../inventory/load.js';
import { loadSimFile } from '../../inventory/sim-file.js';
import { resolveHostVars } from '../../inventory/vars.js';
import { InputError } from '../../core/errors.js';
import { simDownCommand, simStatusCommand, simUpCommand } from '../../sim/cli.js';
import { inventoryName } from '../context.js';

export async function simCommand(a: { action: 'up' | 'down' | 'status'; inventory?: string; all: boolean }): Promise<number> {
  const name = a.inventory ? inventoryName(a.inventory) : undefined;
  if (a.action === 'up') {
    if (!a.inventory || !name) throw new InputError([{ file: '(command line)', message: 'orch sim up needs --inventory NAME' }]);
    const inv = loadInventory(a.inventory, { projectRoot });
    const hosts = [...inv.hosts.values()].map((h) => ({ name: h.name, groups: h.groups, vars: resolveHostVars(inv, h.name).values }));
    const simFile = loadSimFile(inventoryDir(a.inventory, projectRoot));
    await simUpCommand({ inventoryName: name, projectRoot, hosts, simFile });
    return 0;
  }
  if (a.action === 'down') {
    await simDownCommand({ inventoryName: name, all: a.all, projectRoot });
    return 0;
  }
  await simStatusCommand({ inventoryName: name, projectRoot });
  return 0;
}
