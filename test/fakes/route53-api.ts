/**
 * In-memory implementation of the Route53Api port with Route 53's observable rules: paginated
 * lists, atomic change batches, CREATE of an existing set and DELETE of a set that does not match
 * exactly are InvalidChangeBatch, alias targets must be hostnames, per-request limits.
 * Faults (throttling, PriorRequestNotComplete) can be injected; every call is recorded.
 */
import type {
  Change,
  HostedZone,
  ListResourceRecordSetsCommandInput,
  ResourceRecordSet,
} from '@aws-sdk/client-route-53';
import { isIP } from 'node:net';
import type { Route53Api } from '../../operator/records/providers/route53-api';

export interface RecordedCall {
  readonly op:
    'getHostedZone' | 'listHostedZones' | 'listResourceRecordSets' | 'changeResourceRecordSets';
  readonly zoneId?: string;
  readonly changes?: readonly Change[];
  /** 'ok', or the error name the call failed with. */
  readonly outcome: string;
}

interface FakeZone {
  readonly zone: HostedZone;
  readonly sets: Map<string, ResourceRecordSet>;
}

function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}

export function awsError(name: string, message: string, status = 400): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
}

const fqdn = (name: string): string => (name.endsWith('.') ? name : `${name}.`).toLowerCase();
const keyOf = (rrs: ResourceRecordSet): string => `${fqdn(rrs.Name ?? '')}|${rrs.Type ?? ''}`;

export class FakeRoute53 implements Route53Api {
  readonly calls: RecordedCall[] = [];
  readonly #zones = new Map<string, FakeZone>();
  #faults: { op: RecordedCall['op']; error: () => Error; remaining: number }[] = [];
  #nextZone = 1;
  /** ListHostedZones page size (Route 53 default is 100). */
  zonePageSize = 100;

  addZone(name: string, options: { private?: boolean; id?: string } = {}): string {
    const id = options.id ?? `ZFAKE${String(this.#nextZone++).padStart(4, '0')}`;
    this.#zones.set(id, {
      zone: {
        Id: `/hostedzone/${id}`,
        Name: fqdn(name),
        CallerReference: id,
        Config: { PrivateZone: options.private === true },
      },
      sets: new Map(),
    });
    return id;
  }

  /** Seeds a record set directly, as if another tool or a person created it. */
  put(zoneId: string, rrs: ResourceRecordSet): void {
    const zone = this.#zone(zoneId);
    const stored = { ...rrs, Name: fqdn(rrs.Name ?? '') };
    zone.sets.set(keyOf(stored), stored);
  }

  recordSets(zoneId: string): ResourceRecordSet[] {
    return [...this.#zone(zoneId).sets.values()];
  }

  /** Drops every fault still pending. */
  clearFaults(): void {
    this.#faults = [];
  }

  /** The next `times` calls of `op` fail with the error. */
  failNext(op: RecordedCall['op'], times: number, error: () => Error): void {
    this.#faults.push({ op, error, remaining: times });
  }

  getHostedZone(id: string): ReturnType<Route53Api['getHostedZone']> {
    return settle(() => {
      this.#fault('getHostedZone', id);
      const found = this.#zones.get(id.replace('/hostedzone/', ''));
      this.calls.push({
        op: 'getHostedZone',
        zoneId: id,
        outcome: found ? 'ok' : 'NoSuchHostedZone',
      });
      if (!found) throw awsError('NoSuchHostedZone', `No hosted zone found with ID: ${id}`, 404);
      return { HostedZone: found.zone, DelegationSet: { NameServers: ['ns-1.awsdns.com'] } };
    });
  }

  listHostedZones(input: { Marker?: string }): ReturnType<Route53Api['listHostedZones']> {
    return settle(() => this.#listHostedZones(input));
  }

  listResourceRecordSets(
    input: ListResourceRecordSetsCommandInput,
  ): ReturnType<Route53Api['listResourceRecordSets']> {
    return settle(() => this.#listResourceRecordSets(input));
  }

  #listHostedZones(input: { Marker?: string }): Awaited<ReturnType<Route53Api['listHostedZones']>> {
    this.#fault('listHostedZones');
    const all = [...this.#zones.values()].map((z) => z.zone);
    const start = input.Marker ? all.findIndex((z) => z.Id === `/hostedzone/${input.Marker}`) : 0;
    const page = all.slice(start, start + this.zonePageSize);
    const next = all[start + this.zonePageSize];
    this.calls.push({ op: 'listHostedZones', outcome: 'ok' });
    return {
      HostedZones: page,
      IsTruncated: next !== undefined,
      NextMarker: next?.Id?.replace('/hostedzone/', ''),
      MaxItems: this.zonePageSize,
      Marker: input.Marker,
    };
  }

  #listResourceRecordSets(
    input: ListResourceRecordSetsCommandInput,
  ): Awaited<ReturnType<Route53Api['listResourceRecordSets']>> {
    const zoneId = input.HostedZoneId ?? '';
    this.#fault('listResourceRecordSets', zoneId);
    const zone = this.#zone(zoneId);
    const sorted = [...zone.sets.values()].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
    let start = 0;
    if (input.StartRecordName !== undefined) {
      const from = `${fqdn(input.StartRecordName)}|${input.StartRecordType ?? ''}`;
      start = sorted.findIndex((r) => keyOf(r) >= from);
      if (start < 0) start = sorted.length;
    }
    const size = Math.min(input.MaxItems ?? 300, 300);
    const page = sorted.slice(start, start + size);
    const next = sorted[start + size];
    this.calls.push({ op: 'listResourceRecordSets', zoneId, outcome: 'ok' });
    return {
      ResourceRecordSets: page,
      IsTruncated: next !== undefined,
      NextRecordName: next?.Name,
      NextRecordType: next?.Type,
      MaxItems: size,
    };
  }

  changeResourceRecordSets(input: {
    HostedZoneId?: string;
    ChangeBatch?: { Changes?: Change[] };
  }): ReturnType<Route53Api['changeResourceRecordSets']> {
    const zoneId = input.HostedZoneId ?? '';
    const changes = input.ChangeBatch?.Changes ?? [];
    try {
      this.#fault('changeResourceRecordSets', zoneId, changes);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    try {
      this.#applyAtomically(zoneId, changes);
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      this.calls.push({ op: 'changeResourceRecordSets', zoneId, changes, outcome: error.name });
      return Promise.reject(error);
    }
    this.calls.push({ op: 'changeResourceRecordSets', zoneId, changes, outcome: 'ok' });
    return Promise.resolve({
      ChangeInfo: {
        Id: `/change/C${this.calls.length}`,
        Status: 'PENDING',
        SubmittedAt: new Date(),
      },
    });
  }

  #applyAtomically(zoneId: string, changes: readonly Change[]): void {
    const zone = this.#zone(zoneId);
    const count = changes.reduce((n, c) => n + (c.Action === 'UPSERT' ? 2 : 1), 0);
    if (count > 1000)
      throw awsError('InvalidChangeBatch', `Number of changes ${count} exceeds 1000`);
    const chars = changes.reduce(
      (n, c) =>
        n +
        (c.Action === 'UPSERT' ? 2 : 1) *
          (c.ResourceRecordSet?.ResourceRecords ?? []).reduce(
            (m, r) => m + (r.Value ?? '').length,
            0,
          ),
      0,
    );
    if (chars > 32_000)
      throw awsError('InvalidChangeBatch', `Value characters ${chars} exceed 32000`);
    const next = new Map(zone.sets);
    for (const change of changes) {
      const rrs: ResourceRecordSet = change.ResourceRecordSet ?? { Name: '', Type: undefined };
      const stored = { ...rrs, Name: fqdn(rrs.Name ?? '') };
      const key = keyOf(stored);
      const alias = rrs.AliasTarget?.DNSName;
      if (alias !== undefined && isIP(alias.replace(/\.$/, '')) !== 0) {
        throw awsError(
          'InvalidChangeBatch',
          `Tried to create an alias that targets ${alias}, type ${rrs.Type} in zone ${zoneId}, but the alias target name does not lie within the target zone`,
        );
      }
      if (change.Action === 'CREATE') {
        if (next.has(key)) {
          throw awsError(
            'InvalidChangeBatch',
            `Tried to create resource record set [name='${stored.Name}', type='${rrs.Type}'] but it already exists`,
          );
        }
        next.set(key, stored);
      } else if (change.Action === 'UPSERT') {
        next.set(key, stored);
      } else {
        const existing = next.get(key);
        if (existing === undefined || JSON.stringify(existing) !== JSON.stringify(stored)) {
          throw awsError(
            'InvalidChangeBatch',
            `Tried to delete resource record set [name='${stored.Name}', type='${rrs.Type}'] but the values provided do not match the current values`,
          );
        }
        next.delete(key);
      }
    }
    zone.sets.clear();
    for (const [k, v] of next) zone.sets.set(k, v);
  }

  #fault(op: RecordedCall['op'], zoneId?: string, changes?: readonly Change[]): void {
    const fault = this.#faults.find((f) => f.op === op && f.remaining > 0);
    if (!fault) return;
    fault.remaining -= 1;
    const error = fault.error();
    this.calls.push({ op, zoneId, changes, outcome: error.name });
    throw error;
  }

  #zone(zoneId: string): FakeZone {
    const zone = this.#zones.get(zoneId.replace('/hostedzone/', ''));
    if (!zone) throw awsError('NoSuchHostedZone', `No hosted zone found with ID: ${zoneId}`, 404);
    return zone;
  }
}
