/**
 * The operations library: `ops.<name>(options)` returns an `Operation` (see types.ts).
 * Runner contract beyond types.ts: `await prepareArtifacts(ops)` before calling `uploads()` of artifact, python-venv and node-package ops.
 */
import { artifact } from './artifact.js';
import { command } from './command.js';
import { dir } from './dir.js';
import { file } from './file.js';
import { limits } from './limits.js';
import { lineInFile } from './line-in-file.js';
import { packages } from './packages.js';
import { symlink } from './symlink.js';
import { sysctl } from './sysctl.js';
import { service, unit } from './systemd.js';
import { group, user } from './users.js';
import { instances } from './instances.js';
import { healthCheck } from './health.js';
import { prune } from './prune.js';
import { nodePackage } from './node-package.js';
import { pythonVenv } from './python-venv.js';
import { reloadThroughApi } from './reload.js';
import { waitForHttp, waitForPort } from './wait.js';

export const ops = { user, group, dir, file, symlink, lineInFile, packages, sysctl, limits, unit, service, command, waitForPort, waitForHttp, artifact, instances, healthCheck, prune, pythonVenv, nodePackage, reloadThroughApi };

export { lines } from './file.js';
export { prepareArtifacts, ARTIFACT_MARKER } from './artifact.js';
export { ensureCached, cachedPath, defaultCacheDir } from './artifact-cache.js';
export { DAEMON_RELOAD, environmentFileValue } from './systemd.js';
export { resourceControls, serviceLimit, serviceLimits, withResourceControls, RESOURCE_LIMITS_VAR } from './resources.js';
export type { ResourceControls, ResourceLimit } from './resources.js';
export type { ArtifactOptions, ArtifactFact, ArtifactOperation } from './artifact.js';
export type { CommandOptions } from './command.js';
export type { DirOptions } from './dir.js';
export type { FileOptions, FileFact } from './file.js';
export type { LimitsOptions, LimitsEntry } from './limits.js';
export type { LineInFileOptions } from './line-in-file.js';
export type { PackagesOptions } from './packages.js';
export type { SymlinkOptions } from './symlink.js';
export type { SysctlOptions } from './sysctl.js';
export type { ServiceOptions, UnitOptions } from './systemd.js';
export type { GroupOptions, UserOptions } from './users.js';
export type { HealthCheckOptions } from './health.js';
export type { InstancesOptions, InstanceSpec, InstancesFact } from './instances.js';
export { instanceUnit, pruneInstances } from './instances.js';
export type { WaitForHttpOptions, WaitForPortOptions } from './wait.js';
export type { Mode, Ownership } from './stat.js';
export * from './types.js';
export { q, argv, octal } from './quote.js';
export { parseLock, lockDigest, parseFreeze, lockDrift, normaliseName, venvCreateCommand, pipInstallCommand, pipFreezeCommand } from './python-lock.js';
export type { LockedPackage, LockDrift, VenvPaths } from './python-lock.js';
export { ensureWheelhouse } from './wheelhouse.js';
export type { Wheelhouse, WheelhouseOptions } from './wheelhouse.js';
export type { PythonVenvOptions, PythonVenvOperation } from './python-venv.js';
export { ensureNpmBundle, readNpmLock, checkNpmLock, npmLockDigest } from './npm-bundle.js';
export type { NpmBundle, NpmBundleOptions, NpmLock } from './npm-bundle.js';
export type { NodePackageOptions, NodePackageOperation } from './node-package.js';
export type { ReloadThroughApiOptions } from './reload.js';
