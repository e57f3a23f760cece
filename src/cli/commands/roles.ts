/** `orch roles list` and `orch roles show ROLE`: the roles and their variables, from their schemas. */
import { RoleRegistry } from '../../role/registry.js';

export async function rolesList(): Promise<number> {
  const reg = new RoleRegistry();
  for (const n of reg.names()) {
    const r = await reg.load(n);
    process.stdout.write(`${n.padEnd(20)} ${r.description}${r.dependsOn?.length ? `  (depends on ${r.dependsOn.join(', ')})` : ''}\n`);
  }
  return 0;
}

export async function rolesShow(name: string): Promise<number> {
  const reg = new RoleRegistry();
  if (!reg.has(name)) {
    process.stderr.write(`no role ${name} (roles: ${reg.names().join(', ')})\n`);
    return 4;
  }
  const r = await reg.load(name);
  const out = [`${r.name}: ${r.description}`];
  if (r.dependsOn?.length) out.push(`depends on: ${r.dependsOn.join(', ')}`);
  if (r.doc) out.push('', ...r.doc.trim().split('\n').map((l) => `  ${l}`.trimEnd()));
  out.push('', 'variables:');
  for (const [k, s] of Object.entries(r.vars)) {
    const type = describeType(s.schema);
    const def = s.default === undefined ? 'required' : s.secret ? 'default ***' : `default ${JSON.stringify(s.default)}`;
    out.push(`  ${k}  (${type}; ${def}${s.secret ? '; secret' : ''})`, `      ${s.doc}`);
  }
  process.stdout.write(out.join('\n') + '\n');
  return 0;
}

function describeType(s: Record<string, unknown>): string {
  const parts = [String(s.type ?? 'any')];
  if (s.enum) parts.push(`one of ${(s.enum as unknown[]).join('|')}`);
  if (s.pattern) parts.push(`matching ${s.pattern}`);
  if (s.minimum !== undefined || s.maximum !== undefined) parts.push(`${s.minimum ?? ''}..${s.maximum ?? ''}`);
  return parts.join(' ');
}
