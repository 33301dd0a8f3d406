/** Reads a Route 53 zone (moto) the way a test checks what the operator published. */
import {
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
  type Route53Client,
} from '@aws-sdk/client-route-53';
import type { KubernetesObject } from '@kubernetes/client-node';

/** Every record set of the zone, all pages. */
export async function listRecordSets(
  client: Route53Client,
  zoneId: string,
): Promise<ResourceRecordSet[]> {
  const out: ResourceRecordSet[] = [];
  let start: { name?: string; type?: string } = {};
  for (;;) {
    const page = await client.send(
      new ListResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ...(start.name
          ? { StartRecordName: start.name, StartRecordType: start.type as never }
          : {}),
      }),
    );
    out.push(...(page.ResourceRecordSets ?? []));
    if (!page.IsTruncated) return out;
    start = { name: page.NextRecordName, type: page.NextRecordType };
  }
}

/** One line per record set ("name TYPE value,value"), sorted: a zone to compare as a whole. */
export function describeRecordSets(sets: readonly ResourceRecordSet[]): string[] {
  return sets
    .map((r) => {
      const values =
        r.AliasTarget !== undefined
          ? [`alias:${r.AliasTarget.DNSName ?? ''}`]
          : (r.ResourceRecords ?? []).map((v) => v.Value ?? '').sort();
      return `${(r.Name ?? '').replace(/\.$/, '')} ${r.Type ?? ''} ${values.join(',')}`;
    })
    .sort();
}

/** The credentials Secret a DNSPolicy names (`credentialsSecretRef`), holding these AWS keys. */
export function awsCredentialsSecret(
  namespace: string,
  name: string,
  credentials: { readonly accessKeyId: string; readonly secretAccessKey: string },
): KubernetesObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace },
    stringData: {
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    },
  } as KubernetesObject;
}
