/** The `orch` command line (yargs): commands, flags, exit codes. */
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { EXIT, InputError, formatProblem } from '../core/errors.js';
import { UnreachableError } from '../transport/types.js';
// Command modules are imported when their command runs: start-up stays fast (Docker's client alone takes
// a fifth of a second to load, and `orch run` needs neither it nor the planner's CLI helpers of other commands).

export const EXIT_CODES_HELP = `Exit codes:
  0  success
  1  internal error
  2  a host failed
  3  a host was unreachable
  4  bad input (inventory, playbook, variables): nothing was touched`;

function runOptions<T>(y: Argv<T>) {
  return y
    .positional('playbook', { type: 'string', demandOption: true, describe: 'playbook name (playbooks/NAME.yml) or path' })
    .option('limit', { alias: 'l', type: 'string', describe: 'only hosts matching this pattern' })
    .option('tags', { alias: 't', type: 'string', array: true, describe: 'only roles/phases with these tags (role names are tags)' })
    .option('skip-tags', { type: 'string', array: true, describe: 'skip roles/phases with these tags' })
    .option('phase', { type: 'string', describe: 'only this phase (number or name)' })
    .option('from-phase', { type: 'string', describe: 'resume: this phase and the ones after it' });
}

function common<T>(y: Argv<T>) {
  return y
    .option('inventory', { alias: 'i', type: 'string', demandOption: true, describe: 'inventory name (inventories/NAME/) or path' })
    .option('sim', { type: 'boolean', default: false, describe: 'use the simulated hosts of `orch sim up` (overlay)' })
    .option('extra-vars', { alias: 'e', type: 'string', array: true, describe: 'key=value, JSON, or @file.yml (highest precedence)' });
}

/** Parse and run; resolves to the exit code. */
export async function main(args: string[]): Promise<number> {
  let code: number = EXIT.ok;
  const set = (p: Promise<number> | number) => Promise.resolve(p).then((c) => void (code = c));
  const cli = yargs(args)
    .scriptName('orch')
    .usage('$0 <command> [options]\n\nAgentless orchestrator: typed roles over SSH, phase by phase.')
    .epilog(EXIT_CODES_HELP)
    .strict()
    .parserConfiguration({ 'boolean-negation': false })
    .demandCommand(1, 'name a command (see --help)')
    .command(
      'run <playbook>',
      'converge the hosts of an inventory with a playbook',
      (y) =>
        runOptions(common(y))
          .option('check', { alias: 'C', type: 'boolean', default: false, describe: 'dry run: report what would change, change nothing' })
          .option('diff', { alias: 'D', type: 'boolean', default: false, describe: 'show unified diffs of files (secrets masked)' })
          .option('forks', { alias: 'f', type: 'number', describe: 'hosts at once (default all, up to 256)' })
          .option('fail-fast', { type: 'boolean', default: false, describe: 'stop the run at the first failed host' })
          .option('json', { type: 'boolean', default: false, describe: 'JSON-lines event stream on stdout' })
          .option('plain', { type: 'boolean', default: false, describe: 'plain lines even on a terminal' })
          .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'also list unchanged operations' })
          .option('profile', { type: 'boolean', default: false, describe: 'print where the time went (connect, facts, diff, apply)' })
          .option('accept-new-hosts', { type: 'boolean', default: false, describe: 'record unknown host keys in known_hosts (changed keys are always refused)' }),
      (a) => set(import('./commands/run.js').then((m) => m.runCommand(a as unknown as import('./commands/run.js').RunArgs))),
    )
    .command(
      'plan <playbook>',
      'offline: phases, hosts, roles in order, resolved variables (no connection)',
      (y) =>
        runOptions(common(y))
          .option('vars', { type: 'string', describe: 'also print the resolved variables of this host, with where each comes from' })
          .option('json', { type: 'boolean', default: false }),
      (a) => set(import('./commands/plan.js').then((m) => m.planCommand(a as any))),
    )
    .command('inventory <action> [host]', 'list | show HOST | validate | graph', (y) =>
      common(y)
        .positional('action', { choices: ['list', 'show', 'validate', 'graph'] as const, demandOption: true })
        .positional('host', { type: 'string' })
        .option('playbook', { type: 'string', describe: 'validate role variables for this playbook (default: site when it exists)' }),
      async (a) => {
        const args = a as any;
        const m = await import('./commands/inventory.js');
        if (args.action === 'list') return set(m.inventoryList(args));
        if (args.action === 'graph') return set(m.inventoryGraphCmd(args));
        if (args.action === 'validate') return set(m.inventoryValidate(args));
        if (!args.host) throw new InputError([{ file: args.inventory, message: 'inventory show needs a HOST' }]);
        return set(m.inventoryShow(args));
      },
    )
    .command('roles <action> [role]', 'list | show ROLE (variables with type, default, description)', (y) =>
      y.positional('action', { choices: ['list', 'show'] as const, demandOption: true }).positional('role', { type: 'string' }),
      (a) => set(import('./commands/roles.js').then((m) => (a.action === 'list' ? m.rolesList() : m.rolesShow(String(a.role ?? ''))))),
    )
    .command('ping', 'connect to every host: OS, user, sudo, round-trip time', (y) => common(y).option('accept-new-hosts', { type: 'boolean', default: false }),
      (a) => set(import('./commands/ping.js').then((m) => m.pingCommand(a as any))),
    )
    .command('facts <host>', 'the facts orch gathers on a host', (y) =>
      common(y).positional('host', { type: 'string', demandOption: true }).option('accept-new-hosts', { type: 'boolean', default: false }),
      (a) => set(import('./commands/ping.js').then((m) => m.factsCommand(a as any))),
    )
    .command('sim <action>', 'simulated hosts in Docker: up | down | status', (y) =>
      y
        .positional('action', { choices: ['up', 'down', 'status'] as const, demandOption: true })
        .option('inventory', { alias: 'i', type: 'string', describe: 'inventory whose hosts to simulate' })
        .option('all', { type: 'boolean', default: false, describe: 'with down: remove every simulated host, also leftovers' }),
      (a) => set(import('./commands/sim.js').then((m) => m.simCommand(a as any))),
    )
    .fail((msg, err) => {
      if (err) throw err;
      throw new UsageError(msg);
    })
    .help()
    .exitProcess(false)
    .version(false)
    .wrap(Math.min(110, process.stdout.columns || 100));
  try {
    await cli.parseAsync(hideBin(['node', 'orch', ...args]));
  } catch (e) {
    return reportError(e);
  }
  return code;
}

/** Wrong command line (unknown command or flag, missing argument): exit 4, nothing is run. */
class UsageError extends Error {}

export function reportError(e: unknown): number {
  if (e instanceof UsageError) {
    process.stderr.write(`error: ${e.message} (see orch --help)\n`);
    return EXIT.badInput;
  }
  if (e instanceof InputError) {
    process.stderr.write(`error: bad input (nothing was touched):\n${e.problems.map((p) => `  ${formatProblem(p)}`).join('\n')}\n`);
    return EXIT.badInput;
  }
  if (e instanceof UnreachableError) {
    process.stderr.write(`error: ${e.message}\n`);
    return EXIT.hostUnreachable;
  }
  process.stderr.write(`internal error: ${(e as Error)?.stack ?? String(e)}\n`);
  return EXIT.internal;
}
