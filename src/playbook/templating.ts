/**
 * The little templating inventories may use: `{{ lookup('env', 'NAME') }}` (a value from the controller's
 * environment, the usual way to keep secrets out of an inventory) and `{{ other_var }}` references.
 * Anything else inside `{{ }}` is an error: cluster-wide values are computed by typed roles, not Jinja.
 */
const EXPR = /\{\{\s*(.*?)\s*\}\}/g;
const ENV = /^lookup\(\s*['"]env['"]\s*,\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]\s*\)$/;
const REF = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface TemplateContext {
  env: Record<string, string | undefined>;
  lookup(name: string): unknown;
}

export class TemplateError extends Error {}

/** Resolve templates inside a value (strings, arrays, objects); throws TemplateError with a fix. */
export function render(value: unknown, ctx: TemplateContext, depth = 0): unknown {
  if (depth > 10) throw new TemplateError('variable references nest too deep (a reference cycle?)');
  if (typeof value === 'string') return renderString(value, ctx, depth);
  if (Array.isArray(value)) return value.map((v) => render(v, ctx, depth));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, render(v, ctx, depth)]));
  }
  return value;
}

function renderString(s: string, ctx: TemplateContext, depth: number): unknown {
  if (!s.includes('{{')) return s;
  const whole = s.match(/^\{\{\s*(.*?)\s*\}\}$/);
  if (whole && !whole[1].includes('}}')) return evalExpr(whole[1], ctx, depth); // keep the type of a lone reference
  return s.replace(EXPR, (_m, expr: string) => {
    const v = evalExpr(expr, ctx, depth);
    return typeof v === 'string' ? v : JSON.stringify(v);
  });
}

function evalExpr(expr: string, ctx: TemplateContext, depth: number): unknown {
  const env = expr.match(ENV);
  if (env) {
    const v = ctx.env[env[1]];
    if (v === undefined) throw new TemplateError(`environment variable ${env[1]} is not set (export it before the run)`);
    return v;
  }
  if (REF.test(expr)) {
    const v = ctx.lookup(expr);
    if (v === undefined) throw new TemplateError(`{{ ${expr} }} refers to an undefined variable`);
    return render(v, ctx, depth + 1);
  }
  throw new TemplateError(`unsupported template {{ ${expr} }}: use {{ lookup('env', 'NAME') }} or {{ variable }}; roles compute cluster-wide values`);
}
