/**
 * The password of a database owner on the platform's PostgreSQL cluster, generated once and shared, so that no
 * operator types it and no inventory holds it: a cluster value (./cluster.ts) named `db_password_<owner>`, held by
 * the database cluster's hosts (group `patroni` in the datalyptica deployments).
 *   - the database role (patroni) declares one per owner of its databases that the inventory gives no password, and
 *     sets it on the role;
 *   - a service connecting as that owner (nessie, keycloak, airflow ...) declares the same value when its own password
 *     variable is empty and reads it: the engine resolves it from the database hosts' copies, one value for both.
 * A password the inventory gives (the database role's and the service's variable, from a secrets file) wins over it;
 * the two must then agree, as with any password set by hand.
 */
import { CLUSTER_NAME, type ClusterValueSpec } from './cluster.js';

export function databasePasswordName(owner: string): string {
  const name = `db_password_${owner.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`;
  if (!CLUSTER_NAME.test(name)) throw new Error(`database owner ${JSON.stringify(owner)}: no cluster value name can be made of it`);
  return name;
}

/** The cluster value of `owner`'s password, held by the hosts of `group` (the database cluster). */
export function databasePasswordValue(owner: string, group: string): ClusterValueSpec {
  return {
    name: databasePasswordName(owner),
    doc: `password of the database owner ${owner} (generated once, kept by the hosts of group ${group}, read by the services that connect as ${owner})`,
    group,
    secret: true,
  };
}

/**
 * A service's side: its password variable when set, else the shared value (when `group` names a database cluster
 * the inventory has). `declare` lists the value to declare (none when the variable is set or no group is given).
 */
export function serviceDatabasePassword(o: { password: string; owner: string; group: string }): { declare: ClusterValueSpec[]; value: (cluster: (name: string) => string) => string } {
  if (o.password !== '' || o.group === '') return { declare: [], value: () => o.password };
  const spec = databasePasswordValue(o.owner, o.group);
  return { declare: [spec], value: (cluster) => cluster(spec.name) };
}
