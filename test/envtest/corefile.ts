/** Faults the `erratic` plugin injects; each number N means "every Nth query". */
export interface ErraticFault {
  /** Drop every Nth query (no answer at all); 1 drops everything. */
  readonly drop?: number;
  /** Set the TC bit on every Nth answer (a client should retry over TCP). */
  readonly truncate?: number;
  /** Delay every Nth answer by `ms`. */
  readonly delay?: { readonly every: number; readonly ms: number };
}

/**
 * How one CoreDNS instance answers. The default is a healthy cluster DNS server: cluster.local
 * from the API server, everything else forwarded to the harness upstream.
 */
export interface CoreDnsBehaviour {
  /** Answer cluster.local (and reverse zones) from the API server. Default true. */
  readonly kubernetes?: boolean;
  /** Where other names go: the harness upstream, or a dead loopback port (SERVFAIL). Default 'harness'. */
  readonly upstream?: 'harness' | 'dead';
  /**
   * Replace every answering plugin with `erratic`: A/AAAA answers become erratic's static records
   * (other types SERVFAIL), and every Nth query is dropped/truncated/delayed as configured.
   * Note erratic's own readiness: `/ready` is 200 only while it has seen 3 or 4 queries, so an
   * erratic pod is, for all practical purposes, not ready.
   */
  readonly erratic?: ErraticFault;
}

export interface CorefileParams {
  /** The loopback address this instance binds (DNS, health, ready, metrics). */
  readonly ip: string;
  readonly dnsPort: number;
  readonly healthPort: number;
  readonly readyPort: number;
  readonly metricsPort: number;
  readonly kubeconfigPath: string;
  /** `ip:port` of the harness upstream resolver. */
  readonly upstream: string;
  /** `ip:port` where nothing listens. */
  readonly deadUpstream: string;
  readonly clusterDomain: string;
}

/** The Corefile for one CoreDNS "pod" showing `behaviour`. */
export function renderCorefile(params: CorefileParams, behaviour: CoreDnsBehaviour = {}): string {
  const lines = [
    `.:${params.dnsPort} {`,
    `    bind ${params.ip}`,
    '    errors',
    `    health ${params.ip}:${params.healthPort}`,
    `    ready ${params.ip}:${params.readyPort}`,
    `    prometheus ${params.ip}:${params.metricsPort}`,
  ];
  if (behaviour.erratic !== undefined) {
    lines.push(...erraticBlock(behaviour.erratic));
  } else {
    if (behaviour.kubernetes !== false) lines.push(...kubernetesBlock(params));
    if (behaviour.upstream === 'dead') {
      // Mark the dead upstream down after one failure and answer SERVFAIL at once, rather than
      // retrying it until forward's 5 s deadline.
      lines.push(
        `    forward . ${params.deadUpstream} {`,
        '        max_fails 1',
        '        health_check 100ms',
        '        failfast_all_unhealthy_upstreams',
        '    }',
      );
    } else {
      lines.push(`    forward . ${params.upstream}`);
    }
    lines.push('    loadbalance');
  }
  lines.push('}', '');
  return lines.join('\n');
}

function kubernetesBlock(params: CorefileParams): string[] {
  return [
    `    kubernetes ${params.clusterDomain} in-addr.arpa ip6.arpa {`,
    `        kubeconfig ${params.kubeconfigPath}`,
    '        pods insecure',
    '        fallthrough in-addr.arpa ip6.arpa',
    '        ttl 5',
    '    }',
  ];
}

function erraticBlock(fault: ErraticFault): string[] {
  const lines = ['    erratic {'];
  if (fault.drop !== undefined) lines.push(`        drop ${positive(fault.drop)}`);
  if (fault.truncate !== undefined) lines.push(`        truncate ${positive(fault.truncate)}`);
  if (fault.delay !== undefined) {
    lines.push(`        delay ${positive(fault.delay.every)} ${positive(fault.delay.ms)}ms`);
  }
  lines.push('    }');
  return lines;
}

function positive(n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new Error(`expected a positive integer, got ${n}`);
  return n;
}

/** A tiny authoritative upstream: every A query under `upstream.test` answers 127.0.0.1, the rest NXDOMAIN. */
export function renderUpstreamCorefile(ip: string, dnsPort: number): string {
  return [
    `.:${dnsPort} {`,
    `    bind ${ip}`,
    '    template IN A upstream.test {',
    '        answer "{{ .Name }} 60 IN A 127.0.0.1"',
    '    }',
    '    template ANY ANY {',
    '        rcode NXDOMAIN',
    '    }',
    '}',
    '',
  ].join('\n');
}
