/** Simulated hosts (Docker containers with systemd + sshd) for tests and the demo. */
export { ensureImage, imageTag, cacheDir, IMAGE_REPO, type SimVariant } from './image.js';
export { ensureAptProxy, APT_PROXY_PORT } from './apt-proxy.js';
export {
  simUp,
  simDown,
  simDownAll,
  simDownSync,
  simStatus,
  simKill,
  simStart,
  loadSimState,
  planResources,
  simStateDir,
  simOverlayFile,
  networkName,
  containerName,
  type SimHostSpec,
  type SimHostState,
  type SimHostStatus,
  type SimState,
  type SimUpOptions,
  type SimCommonOptions,
} from './hosts.js';
export { simUpCommand, simDownCommand, simStatusCommand, simSshCommand, type SimInventoryHost } from './cli.js';
export type { Log } from './docker.js';
