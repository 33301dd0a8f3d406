/**
 * external-dns parity: cases taken from external-dns's own table tests (external-dns-parity.cases.ts)
 * run through the real `dnsop plan` command line (manifests in, JSON out). A case either publishes
 * exactly what external-dns's test expects, or is marked as a deliberate difference with its reason.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SOURCE_KINDS } from '../../operator/api/types';
import { main } from '../../operator/main';
import { PARITY_CASES, type ParityCase, type Rec } from './external-dns-parity.cases';

interface PlanOutput {
  readonly policies: readonly {
    readonly records: readonly {
      name: string;
      type: string;
      targets: string[];
      ttl: number;
    }[];
    readonly diagnostics: readonly { object: string; reason: string; message: string }[];
  }[];
}

const DOMAINS = ['org', 'com', 'net', 'internal', 'bar', 'tld'];
const dir = mkdtempSync(join(tmpdir(), 'dnsop-parity-'));
const kinds: ReadonlySet<string> = new Set(SOURCE_KINDS);

function namespaceOf(obj: Record<string, unknown>): string | undefined {
  return (obj['metadata'] as { namespace?: string } | undefined)?.namespace;
}

/** The case's objects, a DNSPolicy over them and their Namespaces, as one manifest file. */
function manifestFor(c: ParityCase, i: number): string {
  const namespaces = [...new Set(c.objects.map(namespaceOf).filter((n): n is string => !!n))];
  const own = c.namespace ?? namespaces[0] ?? 'default';
  const sources = [...new Set(c.objects.map((o) => String(o['kind'])))]
    .filter((k) => kinds.has(k))
    .map((kind) => ({ kind }));
  const policy = {
    apiVersion: 'dnsop.io/v1alpha1',
    kind: 'DNSPolicy',
    metadata: { name: 'parity', namespace: own },
    spec: { sources, domains: DOMAINS, provider: { inMemory: {} }, ...c.spec },
  };
  const items = [
    ...[...new Set([own, ...namespaces])].map((name) => ({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name },
    })),
    policy,
    ...c.objects,
  ];
  const file = join(dir, `case-${i}.json`);
  writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
  return file;
}

async function plan(c: ParityCase, i: number): Promise<PlanOutput['policies'][number]> {
  let out = '';
  let err = '';
  const code = await main(
    ['node', 'dnsop', 'plan', '-f', manifestFor(c, i), '-o', 'json', ...(c.flags ?? [])],
    { stdout: (t) => (out += t), stderr: (t) => (err += t) },
  );
  if (code !== 0) throw new Error(`dnsop plan exited ${code}: ${err}`);
  const [policy] = (JSON.parse(out) as PlanOutput).policies;
  if (policy === undefined) throw new Error(`no policy planned: ${out}`);
  return policy;
}

/** A record as DNS compares it: names and CNAME targets without the root dot, IPv6 in lower case. */
function normalise(rec: Rec, withTtl: boolean): string {
  const [name, type, targets, ttl] = rec;
  const bare = (t: string): string => (t.endsWith('.') ? t.slice(0, -1) : t);
  const norm = targets
    .map((t) => (type === 'CNAME' ? bare(t) : type === 'AAAA' ? t.toLowerCase() : t))
    .sort();
  return `${bare(name)} ${type} ${norm.join(',')}${withTtl && ttl !== undefined ? ` ttl=${ttl}` : ''}`;
}

/** The records compared, with TTLs only where the expectation sets them. */
function compare(
  got: PlanOutput['policies'][number]['records'],
  expected: readonly Rec[],
): { got: string[]; want: string[] } {
  const ttlOf = new Map(expected.map((r) => [normalise(r, false), r[3] !== undefined]));
  const gotRecs = got.map((r): Rec => [r.name, r.type, r.targets, r.ttl]);
  return {
    got: gotRecs.map((r) => normalise(r, ttlOf.get(normalise(r, false)) === true)).sort(),
    want: expected.map((r) => normalise(r, true)).sort(),
  };
}

const parity = PARITY_CASES.filter((c) => c.dnsop === undefined);
const differing = PARITY_CASES.filter((c) => c.dnsop !== undefined);

describe(`external-dns parity: ${parity.length} of ${PARITY_CASES.length} cases publish what external-dns's test expects, ${differing.length} differ on purpose`, () => {
  it.each(PARITY_CASES.map((c, i) => [c.from, c, i] as const))('%s', async (_from, c, i) => {
    const result = await plan(c, i);
    const expected = c.dnsop?.records ?? c.externalDns;
    const { got, want } = compare(result.records, expected);
    expect(got).toEqual(want);
    if (c.diagnostic !== undefined) {
      expect(result.diagnostics.map((d) => d.reason)).toContain(c.diagnostic);
    }
    if (c.dnsop !== undefined) {
      // A case marked as different must differ from external-dns, and say why.
      expect(got).not.toEqual(compare(result.records, c.externalDns).want);
      expect(c.dnsop.why.length).toBeGreaterThan(20);
    }
  });
});
