import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Where `test/envtest/provision.sh` puts the components the harness runs. */
export interface ToolPaths {
  readonly etcd: string;
  readonly kubeApiServer: string;
  readonly kubeControllerManager: string;
  /** kubectl, from the same k8s.io/kubernetes module: tests run the README's commands with it. */
  readonly kubectl: string;
  readonly coreDns: string;
  readonly motoServer: string;
  /** kustomize, to render deploy/ exactly as `kubectl apply -k deploy/` does. */
  readonly kustomize: string;
  /** GitOps health checker: kstatus `status.Compute` and Argo CD's Lua VM (tools/health). */
  readonly health: string;
  /** Gateway API standard-channel CRD manifests (one file per CRD). */
  readonly gatewayApiCrdFiles: readonly string[];
  /** TLSRoute, TCPRoute and UDPRoute CRDs from the Gateway API experimental channel. */
  readonly gatewayApiExperimentalCrdFiles: readonly string[];
  /** external-dns's DNSEndpoint CRD. */
  readonly externalDnsCrdFiles: readonly string[];
}

function yamlFiles(dir: string): string[] {
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.yaml'))
        .sort()
        .map((f) => join(dir, f))
    : [];
}

export const repoRoot = resolve(__dirname, '..', '..');

export function toolsDir(): string {
  return process.env['DNSOP_TOOLS_DIR'] ?? join(repoRoot, '.tools');
}

/** Resolves every tool path; throws one message naming what is missing and how to get it. */
export function locateTools(): ToolPaths {
  const dir = toolsDir();
  const bin = (name: string): string => join(dir, 'bin', name);
  const crdDir = join(dir, 'crds', 'gateway-api');
  const experimentalDir = join(dir, 'crds', 'gateway-api-experimental');
  const externalDnsDir = join(dir, 'crds', 'external-dns');
  const paths: ToolPaths = {
    etcd: bin('etcd'),
    kubeApiServer: bin('kube-apiserver'),
    kubeControllerManager: bin('kube-controller-manager'),
    kubectl: bin('kubectl'),
    coreDns: bin('coredns'),
    motoServer: join(dir, 'venv', 'bin', 'moto_server'),
    kustomize: bin('kustomize'),
    health: bin('health'),
    gatewayApiCrdFiles: yamlFiles(crdDir),
    gatewayApiExperimentalCrdFiles: yamlFiles(experimentalDir),
    externalDnsCrdFiles: yamlFiles(externalDnsDir),
  };
  const missing = [
    paths.etcd,
    paths.kubeApiServer,
    paths.kubeControllerManager,
    paths.kubectl,
    paths.coreDns,
    paths.motoServer,
    paths.kustomize,
    paths.health,
  ].filter((p) => !existsSync(p));
  if (paths.gatewayApiCrdFiles.length === 0) missing.push(crdDir);
  if (paths.gatewayApiExperimentalCrdFiles.length === 0) missing.push(experimentalDir);
  if (paths.externalDnsCrdFiles.length === 0) missing.push(externalDnsDir);
  if (missing.length > 0) {
    throw new Error(
      `envtest tools missing (${missing.join(', ')}): run \`bash test/envtest/provision.sh\``,
    );
  }
  return paths;
}
