/**
 * The real Eviction API (KubeEvictionApi), noting when the API server accepted each eviction: the
 * end of "hang -> eviction accepted" in the DNSProbe integration test and bench.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import {
  KubeEvictionApi,
  type EvictionApi,
  type EvictionResult,
  type PodFacts,
} from '../../operator/probes/remediation';

export class TimedEviction implements EvictionApi {
  readonly accepted: { readonly pod: string; readonly at: number }[] = [];
  readonly #kubeConfig: () => KubeConfig;
  #api: KubeEvictionApi | undefined;

  /** `kubeConfig` is read at the first eviction (the control plane may start later). */
  constructor(kubeConfig: () => KubeConfig) {
    this.#kubeConfig = kubeConfig;
  }

  async evict(pod: PodFacts): Promise<EvictionResult> {
    this.#api ??= new KubeEvictionApi(this.#kubeConfig());
    const result = await this.#api.evict(pod);
    if (result.kind === 'evicted') this.accepted.push({ pod: pod.name, at: performance.now() });
    return result;
  }
}
