/**
 * `dnsop plan`: offline preview of the records every DNSPolicy in the given manifests would
 * publish, with the diagnostics, using the operator's own source, shaping and plan code against an
 * empty zone. No cluster, no credentials.
 */
import type { CliIO } from '../cli-io';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from '../cli-io';
import type { DNSPolicy } from '../api/types';
import { loadCrdValidator } from '../api/validation';
import type { Diagnostic, Endpoint } from './endpoint';
import {
  changeSetOf,
  changesSomething,
  currentForPolicy,
  guardDiagnostic,
  type ChangeSet,
} from './change-set';
import { CurrentZoneError, readCurrentZones } from './current-zone';
import { ManifestProblems, readValidatedManifests } from './manifests';
import { offlineCaches } from './objects';
import { evaluatePolicy, planForPolicy } from './pipeline';
import { sourceObjectsFrom } from './objects';

export interface PlanCommandOptions {
  readonly files: readonly string[];
  readonly output: 'json' | 'table';
  /**
   * Namespaces whose policies may use namespaceSelector, as the operator's --trusted-namespaces.
   * Omitted: every namespace is trusted, so a preview shows what a trusted install would publish.
   */
  readonly trustedNamespaces?: readonly string[];
  /** --current: the zones as they are now (Route 53 exports or RFC 1035 zone files). */
  readonly current?: readonly string[];
  /** --exit-code: exit 1 when any policy has changes. */
  readonly exitCode?: boolean;
  /** As the operator's --controller-name: a controller annotation value to publish besides "dnsop". */
  readonly controllerName?: string;
}

export interface PlannedRecord {
  readonly name: string;
  readonly type: string;
  readonly targets: readonly string[];
  readonly ttl: number;
  readonly alias: boolean;
  readonly aliasHostedZoneId?: string;
  readonly source: string;
}

export interface PlannedPolicy {
  readonly policy: string;
  readonly provider: string;
  readonly records: readonly PlannedRecord[];
  readonly diagnostics: readonly Diagnostic[];
  /** With --current: what the operator would apply to the zone as it is. */
  readonly changes?: ChangeSet<PlannedRecord>;
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function toPlannedRecord(ep: Endpoint): PlannedRecord {
  const alias = ep.providerSpecific?.alias === true;
  return {
    name: ep.name,
    type: ep.type,
    targets: [...ep.targets].sort(),
    ttl: ep.ttl,
    alias,
    ...(alias && ep.providerSpecific?.aliasHostedZoneId
      ? { aliasHostedZoneId: ep.providerSpecific.aliasHostedZoneId }
      : {}),
    source: ep.source ?? '',
  };
}

/**
 * Loads manifests, validates every dnsop object against the CRDs (defaults filled in as the API
 * server fills them) and plans every DNSPolicy. Throws ManifestProblems listing every problem.
 */
export async function planManifests(options: PlanCommandOptions): Promise<PlannedPolicy[]> {
  const validator = await loadCrdValidator();
  const caches = offlineCaches();
  const policies: DNSPolicy[] = [];
  for (const obj of readValidatedManifests(options.files, validator)) {
    if (obj.kind === 'DNSPolicy' && obj.apiVersion?.startsWith('dnsop.io/')) {
      policies.push(obj as unknown as DNSPolicy);
    }
    caches.add(obj);
  }
  const objects = sourceObjectsFrom(caches);
  const zones = options.current === undefined ? undefined : readCurrentZones(options.current);
  return policies
    .map((policy) => {
      const trusted = new Set(options.trustedNamespaces ?? [policy.metadata.namespace ?? '']);
      const evaluation = evaluatePolicy(policy, objects, {
        trustedNamespaces: trusted,
        ...(options.controllerName ? { controllerName: options.controllerName } : {}),
      });
      const plan = planForPolicy(policy, evaluation, [], true);
      const records = plan.changes.create
        .filter((ep) => ep.ownerOf === undefined)
        .map(toPlannedRecord)
        .sort((a, b) => compare(a.name, b.name) || compare(a.type, b.type));
      const live =
        zones === undefined
          ? undefined
          : planForPolicy(policy, evaluation, currentForPolicy(zones, policy), true);
      const guard = live === undefined ? undefined : guardDiagnostic(evaluation.policy, live);
      const diagnostics = [
        ...evaluation.diagnostics,
        ...(live ?? plan).diagnostics,
        ...(guard ? [guard] : []),
      ].sort(
        (a, b) =>
          compare(a.object, b.object) ||
          compare(a.reason, b.reason) ||
          compare(a.message, b.message),
      );
      return {
        policy: evaluation.policy,
        provider: evaluation.provider,
        records,
        diagnostics,
        ...(live ? { changes: changeSetOf(live, toPlannedRecord) } : {}),
      };
    })
    .sort((a, b) => compare(a.policy, b.policy));
}

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return (
    rows
      .map((r) =>
        r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '),
      )
      .join('\n') + '\n'
  );
}

function describeTargets(r: PlannedRecord): string {
  return r.alias ? `alias ${r.targets.join(',')}` : `${r.targets.join(',')} (ttl ${r.ttl})`;
}

/** Rows of the change table: what --current says the operator would do, per policy. */
function changeRows(p: PlannedPolicy): string[][] {
  const c = p.changes;
  if (c === undefined) return [];
  return [
    ...c.adopt.map((r) => [p.policy, 'adopt', r.name, r.type, describeTargets(r)]),
    ...c.create.map((r) => [p.policy, 'create', r.name, r.type, describeTargets(r)]),
    ...c.update.map((u) => [
      p.policy,
      'update',
      u.name,
      u.type,
      `${describeTargets(u.from)} -> ${describeTargets(u.to)}`,
    ]),
    ...c.delete.map((r) => [p.policy, 'delete', r.name, r.type, describeTargets(r)]),
  ];
}

export function formatPlanTable(policies: readonly PlannedPolicy[]): string {
  const records = [['POLICY', 'PROVIDER', 'NAME', 'TYPE', 'TTL', 'TARGETS', 'SOURCE']];
  const diagnostics = [['POLICY', 'OBJECT', 'REASON', 'MESSAGE']];
  for (const p of policies) {
    for (const r of p.records) {
      const type = r.alias ? `${r.type} (alias ${r.aliasHostedZoneId ?? ''})` : r.type;
      records.push([
        p.policy,
        p.provider,
        r.name,
        type,
        String(r.ttl),
        r.targets.join(','),
        r.source,
      ]);
    }
    for (const d of p.diagnostics) diagnostics.push([p.policy, d.object, d.reason, d.message]);
  }
  let out = records.length > 1 ? table(records) : 'No records.\n';
  if (diagnostics.length > 1) out += `\n${table(diagnostics)}`;
  if (policies.some((p) => p.changes !== undefined)) {
    const changes = [
      ['POLICY', 'CHANGE', 'NAME', 'TYPE', 'RECORD'],
      ...policies.flatMap(changeRows),
    ];
    out += changes.length > 1 ? `\n${table(changes)}` : '\nNo changes.\n';
  }
  return out;
}

export async function runPlanCommand(options: PlanCommandOptions, io: CliIO): Promise<number> {
  if (options.files.length === 0) {
    io.stderr(
      'dnsop plan: -f/--filename is required: name the manifest files or directories to plan (e.g. dnsop plan -f examples/)\n',
    );
    return EXIT_USAGE;
  }
  let policies: PlannedPolicy[];
  try {
    policies = await planManifests(options);
  } catch (err) {
    if (err instanceof CurrentZoneError) {
      io.stderr(`dnsop plan: ${err.message}\n`);
      return EXIT_USAGE;
    }
    if (err instanceof ManifestProblems) {
      for (const line of err.message.split('\n')) io.stderr(`dnsop plan: ${line}\n`);
      const n = err.problems.length;
      io.stderr(`dnsop plan: ${n} problem${n === 1 ? '' : 's'} found; nothing planned\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
  if (policies.length === 0) io.stderr('dnsop plan: no DNSPolicy found in the given manifests\n');
  io.stdout(
    options.output === 'json' ? `${JSON.stringify({ policies })}\n` : formatPlanTable(policies),
  );
  // Without --current the zone is taken as empty: every record the policy wants is a change.
  const pending = policies.some(
    (p) =>
      (p.changes === undefined ? p.records.length > 0 : changesSomething(p.changes)) ||
      p.diagnostics.some((d) => d.object.startsWith('DNSPolicy/') && d.reason === 'DeleteGuard'),
  );
  return options.exitCode === true && pending ? EXIT_FAILURE : EXIT_OK;
}
