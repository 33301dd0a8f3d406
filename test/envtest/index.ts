/**
 * The envtest harness: real etcd, kube-apiserver, kube-controller-manager, CoreDNS and moto on
 * loopback, provisioned by `test/envtest/provision.sh`. See test/envtest/README.md.
 */
export {
  applyFiles,
  applyObjects,
  applyYaml,
  hasCondition,
  parseManifests,
  readManifests,
  readObject,
  refOf,
  waitForDeletion,
  waitForObject,
  type ObjectRef,
} from './apply';
export { ControlPlane, type ControlPlaneOptions } from './control-plane';
export { defaultControllers } from './controller-manager';
export {
  CoreDnsCluster,
  CoreDnsPod,
  coreDnsLabels,
  coreDnsReplicaSetName,
  envtestNodeName,
  kubeDnsServiceName,
  type CoreDnsClusterOptions,
} from './coredns-cluster';
export type { CoreDnsBehaviour, ErraticFault } from './corefile';
export { queryA, queryATcp, type QueryResult } from './dns-query';
export {
  argoHealthOf,
  kstatusOf,
  type ArgoHealthStatus,
  type KstatusStatus,
  type Verdict,
} from './health';
export { MotoServer, type MotoCredentials } from './moto';
export { killAllChildProcesses } from './process';
export { locateTools, type ToolPaths } from './tools';
export { waitFor, type WaitOptions } from './wait';
