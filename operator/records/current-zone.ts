/**
 * `dnsop plan --current`: the zone as it is now, read from a file instead of the provider.
 * Two formats, told apart by the first character:
 * - a Route 53 export, the JSON `aws route53 list-resource-record-sets` prints
 *   (`{"ResourceRecordSets": [...]}`, or the bare list from `--query ResourceRecordSets`);
 * - an RFC 1035 zone file (BIND, `gcloud dns record-sets export --zone-file-format`).
 * Both become the Endpoints a provider's `records()` returns, through the same conversion the
 * Route 53 provider uses, so the planner sees what the operator would see. Every fault is a
 * CurrentZoneError naming the file and line.
 */
import { readFileSync } from 'node:fs';
import type { ResourceRecordSet } from '@aws-sdk/client-route-53';
import { isMap, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import type { Endpoint, RecordType } from './endpoint';
import { endpointKey } from './endpoint';
import { endpointFromRecordSet } from './providers/route53-records';
import { parseZoneFile, ZoneFileError } from './zonefile';

export class CurrentZoneError extends Error {
  override readonly name = 'CurrentZoneError';
  readonly file: string;
  readonly line: number | undefined;
  constructor(
    file: string,
    line: number | undefined,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}${line === undefined ? '' : `:${line}`}: ${reason}`, options);
    this.file = file;
    this.line = line;
  }
}

const MANAGED: ReadonlySet<string> = new Set<RecordType>(['A', 'AAAA', 'CNAME', 'TXT', 'SRV']);

/** Record sets of the same name and type from several files: the first one read wins, as a provider lists them. */
function unique(endpoints: readonly Endpoint[]): Endpoint[] {
  const seen = new Set<string>();
  return endpoints.filter((ep) => {
    const key = endpointKey(ep);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Reads one current-zone file (either format) into provider-shaped Endpoints. */
export function readCurrentZoneFile(file: string): Endpoint[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CurrentZoneError(file, undefined, 'cannot read the file', { cause: err });
  }
  const first = text.trimStart()[0];
  return first === '{' || first === '[' ? fromRoute53Export(file, text) : fromZoneFile(file, text);
}

/** Reads every current-zone file; a record set listed twice is taken from the first file. */
export function readCurrentZones(files: readonly string[]): Endpoint[] {
  return unique(files.flatMap(readCurrentZoneFile));
}

// ---- RFC 1035 zone files ---------------------------------------------------------------------

function fromZoneFile(file: string, text: string): Endpoint[] {
  let records;
  try {
    records = parseZoneFile(text);
  } catch (err) {
    if (err instanceof ZoneFileError)
      throw new CurrentZoneError(file, err.line, err.reason, { cause: err });
    throw err;
  }
  const sets = new Map<string, { ep: Endpoint; targets: string[] }>();
  for (const r of records) {
    if (!MANAGED.has(r.type)) continue;
    const key = `${r.name}/${r.type}`;
    const set = sets.get(key);
    if (set === undefined) {
      sets.set(key, {
        ep: { name: r.name, type: r.type as RecordType, targets: [], ttl: r.ttl },
        targets: [r.data],
      });
    } else {
      // One TTL per record set (RFC 2181 5.2): the first one stated, as BIND does.
      set.targets.push(r.data);
      if (r.type === 'CNAME' && !set.targets.every((t) => t === r.data)) {
        throw new CurrentZoneError(file, r.line, `${r.name} has more than one CNAME`);
      }
    }
  }
  return [...sets.values()].map(({ ep, targets }) => ({
    ...ep,
    targets: [...new Set(targets)].sort(),
  }));
}

// ---- Route 53 exports ------------------------------------------------------------------------

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The fault in one listed record set, or undefined when it has the shape Route 53 prints. */
function recordSetProblem(rrs: unknown): string | undefined {
  if (!isRecord(rrs)) return 'a record set must be an object';
  if (typeof rrs['Name'] !== 'string' || rrs['Name'] === '') return 'a record set needs a "Name"';
  if (typeof rrs['Type'] !== 'string' || rrs['Type'] === '') return `${rrs['Name']}: no "Type"`;
  const alias = rrs['AliasTarget'];
  if (alias !== undefined) {
    if (!isRecord(alias) || typeof alias['DNSName'] !== 'string')
      return `${rrs['Name']} ${rrs['Type']}: "AliasTarget" needs a "DNSName"`;
    if (typeof alias['HostedZoneId'] !== 'string')
      return `${rrs['Name']} ${rrs['Type']}: "AliasTarget" needs a "HostedZoneId"`;
    return undefined;
  }
  const values = rrs['ResourceRecords'];
  if (!Array.isArray(values) || values.length === 0)
    return `${rrs['Name']} ${rrs['Type']}: needs "ResourceRecords" or "AliasTarget"`;
  if (!values.every((v) => isRecord(v) && typeof v['Value'] === 'string'))
    return `${rrs['Name']} ${rrs['Type']}: every "ResourceRecords" item needs a string "Value"`;
  if (typeof rrs['TTL'] !== 'number' || !Number.isInteger(rrs['TTL']) || rrs['TTL'] < 0)
    return `${rrs['Name']} ${rrs['Type']}: "TTL" must be a whole number of seconds`;
  return undefined;
}

/** Strict JSON (YAML, used only for line numbers, would forgive a trailing comma). */
function parseJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const at = /at position (\d+)/.exec(message);
    const line = at ? text.slice(0, Number(at[1])).split('\n').length : undefined;
    throw new CurrentZoneError(file, line, `not valid JSON: ${message}`, { cause: err });
  }
}

/** Where each listed record set starts (1-based lines), read from the same text as YAML. */
function recordSetLines(text: string): (index: number) => number | undefined {
  const lines = new LineCounter();
  const root = parseDocument(text, { lineCounter: lines }).contents;
  const list: unknown = isMap(root) ? root.get('ResourceRecordSets', true) : root;
  const at = (node: Node | null | undefined): number | undefined => {
    const offset = node?.range?.[0];
    return offset === undefined ? undefined : lines.linePos(offset).line;
  };
  return (index) => (isSeq(list) ? at(list.items[index] as Node | undefined) : at(root));
}

function fromRoute53Export(file: string, text: string): Endpoint[] {
  const parsed = parseJson(file, text);
  const lineOf = recordSetLines(text);
  const list = isRecord(parsed) ? parsed['ResourceRecordSets'] : parsed;
  if (!Array.isArray(list)) {
    throw new CurrentZoneError(
      file,
      1,
      'a Route 53 export needs a "ResourceRecordSets" list (the output of aws route53 list-resource-record-sets)',
    );
  }
  const out: Endpoint[] = [];
  list.forEach((rrs: unknown, i) => {
    const problem = recordSetProblem(rrs);
    if (problem !== undefined) throw new CurrentZoneError(file, lineOf(i), problem);
    const ep = endpointFromRecordSet(rrs as ResourceRecordSet);
    if (ep !== undefined) out.push(ep);
  });
  return unique(out);
}
