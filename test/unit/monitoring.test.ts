/**
 * deploy/monitoring: every PromQL expression (alert rules and dashboard panels) parses with the
 * Prometheus project's own grammar (@prometheus-io/lezer-promql), and every metric and label it
 * selects is one the operator registers (the registry built here as the operator builds it).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { Histogram, Registry } from 'prom-client';
import { parseAllDocuments } from 'yaml';
import { createMetrics } from '../../operator/runtime/metrics';
import { ROOT } from './crd-schema';

type Doc = Record<string, any>;
const DIR = join(ROOT, 'deploy', 'monitoring');
const load = (file: string): Doc[] =>
  parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((d) => d.toJS() as Doc);

const kustomization = load('kustomization.yaml')[0]!;
const rules = load('prometheusrule.yaml')[0]!;
const serviceMonitor = load('servicemonitor.yaml')[0]!;
const dashboard = JSON.parse(readFileSync(join(DIR, 'dashboard.json'), 'utf8')) as Doc;

const alerts: Doc[] = (rules.spec.groups as Doc[]).flatMap((g) => g.rules as Doc[]);
const panelExprs: string[] = (dashboard.panels as Doc[]).flatMap((p) =>
  ((p.targets ?? []) as Doc[]).map((t) => String(t.expr)),
);
const allExprs = [...alerts.map((a) => String(a.expr)), ...panelExprs];

interface Selector {
  readonly metric: string;
  readonly labels: readonly string[];
}

/** Parses one expression; throws on a syntax error, returns the vector selectors it uses. */
function selectorsOf(expr: string): Selector[] {
  const tree = parser.parse(expr);
  const errors: number[] = [];
  const out: Selector[] = [];
  tree.iterate({
    enter(node) {
      if (node.type.isError) errors.push(node.from);
      if (node.name !== 'VectorSelector') return;
      const id = node.node.getChild('Identifier');
      const matchers = node.node.getChild('LabelMatchers');
      const labels: string[] = [];
      const c = matchers?.cursor();
      if (c !== undefined) {
        c.iterate((n) => {
          if (n.name === 'LabelName') labels.push(expr.slice(n.from, n.to));
        });
      }
      out.push({ metric: id ? expr.slice(id.from, id.to) : '', labels });
    },
  });
  if (errors.length > 0) {
    throw new Error(`PromQL syntax error at offset ${errors[0]}: ${expr}`);
  }
  return out;
}

/** name -> label names, as the operator registers them (a histogram's series included). */
function registeredMetrics(): Map<string, readonly string[]> {
  const metrics = createMetrics(new Registry(), { processMetrics: false });
  const out = new Map<string, readonly string[]>();
  for (const m of metrics.registry.getMetricsAsArray()) {
    const { name, labelNames = [] } = m as unknown as { name: string; labelNames?: string[] };
    out.set(name, labelNames);
    if (m instanceof Histogram) {
      out.set(`${name}_bucket`, [...labelNames, 'le']);
      out.set(`${name}_sum`, labelNames);
      out.set(`${name}_count`, labelNames);
    }
  }
  return out;
}

describe('deploy/monitoring (kustomize component)', () => {
  it('is a Component with a ServiceMonitor, a PrometheusRule and a Grafana dashboard ConfigMap', () => {
    expect(kustomization.kind).toBe('Component');
    expect(kustomization.resources).toEqual(['servicemonitor.yaml', 'prometheusrule.yaml']);
    const generator = (kustomization.configMapGenerator as Doc[])[0]!;
    expect(generator.options.labels).toEqual({ grafana_dashboard: '1' });
    expect(generator.files).toEqual(['dnsop.json=dashboard.json']);
    expect(dashboard.uid).toBe('dnsop');
  });

  it('the ServiceMonitor selects the metrics Service by its labels and port', () => {
    const service = parseAllDocuments(
      readFileSync(join(ROOT, 'deploy', 'service.yaml'), 'utf8'),
    )[0]!.toJS() as Doc;
    const deployLabels = (load('../kustomization.yaml')[0]!.labels as Doc[])[0]!.pairs as Doc;
    const labels = { ...deployLabels, ...service.metadata.labels };
    for (const [k, v] of Object.entries(serviceMonitor.spec.selector.matchLabels as Doc)) {
      expect(labels[k]).toBe(v);
    }
    const ports = (service.spec.ports as Doc[]).map((p) => p.name);
    for (const e of serviceMonitor.spec.endpoints as Doc[]) expect(ports).toContain(e.port);
  });

  it('has the alerts an on-call engineer needs, each with severity, summary and description', () => {
    expect(alerts.map((a) => a.alert).sort()).toEqual(
      [
        'DnsopDNSUnavailable',
        'DnsopDeleteGuard',
        'DnsopNoLeader',
        'DnsopProbeTargetFailing',
        'DnsopProviderThrottled',
        'DnsopSyncErrors',
      ].sort(),
    );
    for (const a of alerts) {
      expect(['critical', 'warning']).toContain(a.labels.severity);
      expect(a.annotations.summary).toBeTruthy();
      expect(a.annotations.description).toBeTruthy();
    }
  });

  it.each(allExprs.map((e) => [e]))('parses as PromQL: %s', (expr) => {
    expect(selectorsOf(expr).length).toBeGreaterThan(0);
  });

  it('uses only metrics (and labels) the operator registers', () => {
    const registered = registeredMetrics();
    const unknown: string[] = [];
    for (const expr of allExprs) {
      for (const s of selectorsOf(expr)) {
        const labels = registered.get(s.metric);
        if (labels === undefined) unknown.push(s.metric);
        else for (const l of s.labels) if (!labels.includes(l)) unknown.push(`${s.metric}{${l}}`);
      }
    }
    expect(unknown).toEqual([]);
  });

  it('a syntax error or an unknown metric would be caught', () => {
    expect(() => selectorsOf('sum(rate(dnsop_probe_total[5m]) by')).toThrow(/syntax error/);
    expect(registeredMetrics().has('dnsop_no_such_metric')).toBe(false);
    expect(registeredMetrics().get('dnsop_sync_duration_seconds_bucket')).toContain('le');
  });
});
