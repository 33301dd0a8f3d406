/** Reads a Route 53 zone (moto) the way a test checks what the operator published. */
import {
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
  type Route53Client,
} from '@aws-sdk/client-route-53';

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
