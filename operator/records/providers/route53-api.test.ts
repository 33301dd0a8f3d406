/**
 * route53Fault on what the real AWS SDK throws for Route 53's actual error documents, served
 * from loopback: the SDK's parser is part of what is tested.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Route53Api } from './route53-api';
import { KeptPages } from './kept-pages';
import { route53ApiFromSdk, route53Fault } from './route53-api';

let server: Server;
let reply: (res: import('node:http').ServerResponse) => void;
let api: Route53Api;

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => reply(res));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  api = route53ApiFromSdk({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const xml = (status: number, body: string) => (res: import('node:http').ServerResponse) => {
  res.writeHead(status, { 'content-type': 'text/xml' });
  res.end(body);
};
const errorResponse = (code: string, message: string): string =>
  `<?xml version="1.0"?>\n<ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>r-1</RequestId></ErrorResponse>`;
/** The document real Route 53 answers InvalidChangeBatch with (not an ErrorResponse). */
const invalidChangeBatch = (...messages: string[]): string =>
  `<?xml version="1.0"?>\n<InvalidChangeBatch xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Messages>${messages.map((m) => `<Message>${m}</Message>`).join('')}</Messages><RequestId>r-2</RequestId></InvalidChangeBatch>`;

async function faultFor(respond: typeof reply): Promise<ReturnType<typeof route53Fault>> {
  reply = respond;
  try {
    await api.changeResourceRecordSets({
      HostedZoneId: 'Z1',
      ChangeBatch: {
        Changes: [
          {
            Action: 'CREATE',
            ResourceRecordSet: {
              Name: 'a.example.com',
              Type: 'A',
              TTL: 60,
              ResourceRecords: [{ Value: '192.0.2.1' }],
            },
          },
        ],
      },
    });
  } catch (err) {
    return route53Fault(err);
  }
  throw new Error('the call succeeded');
}

describe('route53Fault on what the SDK throws', () => {
  it.each([
    [
      'InvalidChangeBatch document, a conflict',
      xml(
        400,
        invalidChangeBatch(
          "Tried to create resource record set [name='a.example.com.', type='A'] but it already exists",
        ),
      ),
      {
        kind: 'conflict',
        code: 'InvalidChangeBatch',
        message:
          "Tried to create resource record set [name='a.example.com.', type='A'] but it already exists",
      },
    ],
    [
      'InvalidChangeBatch document with two messages, not a conflict',
      xml(
        400,
        invalidChangeBatch(
          'RRSet with DNS name a.other.org. is not permitted in zone example.com.',
          'Invalid Resource Record',
        ),
      ),
      {
        kind: 'invalid',
        code: 'InvalidChangeBatch',
        message:
          'RRSet with DNS name a.other.org. is not permitted in zone example.com.; Invalid Resource Record',
      },
    ],
    [
      'Throttling',
      xml(400, errorResponse('Throttling', 'Rate exceeded')),
      { kind: 'throttled', code: 'Throttling', message: 'Rate exceeded' },
    ],
    [
      'PriorRequestNotComplete',
      xml(400, errorResponse('PriorRequestNotComplete', 'still processing')),
      { kind: 'throttled', code: 'PriorRequestNotComplete', message: 'still processing' },
    ],
    [
      'NoSuchHostedZone',
      xml(404, errorResponse('NoSuchHostedZone', 'No hosted zone found with ID: Z1')),
      { kind: 'notFound', code: 'NoSuchHostedZone', message: 'No hosted zone found with ID: Z1' },
    ],
    [
      'AccessDenied',
      xml(403, errorResponse('AccessDenied', 'User is not authorized')),
      { kind: 'auth', code: 'AccessDenied', message: 'User is not authorized' },
    ],
    [
      'InvalidInput',
      xml(400, errorResponse('InvalidInput', 'Invalid request')),
      { kind: 'invalid', code: 'InvalidInput', message: 'Invalid request' },
    ],
    [
      'an empty 503 from a proxy',
      xml(503, ''),
      {
        kind: 'unavailable',
        code: 'HTTP503',
        message: 'HTTP 503 without a Route 53 error in the body',
      },
    ],
    [
      'an empty 403',
      xml(403, ''),
      { kind: 'auth', code: 'HTTP403', message: 'HTTP 403 without a Route 53 error in the body' },
    ],
  ])('%s', async (_what, respond, expected) => {
    expect(await faultFor(respond)).toEqual(expected);
  });

  it('calls no answer at all unavailable', async () => {
    const fault = await faultFor((res) => res.socket?.destroy());
    // (Under Jest the SDK re-wraps the cross-realm transport error and drops its errno code.)
    expect(fault).toMatchObject({ kind: 'unavailable', message: expect.stringMatching(/hang up/) });
  });

  it('says an abort is ours', async () => {
    reply = () => undefined;
    const controller = new AbortController();
    const call = api.listHostedZones({}, controller.signal);
    controller.abort();
    const err: unknown = await call.catch((e: unknown) => e);
    expect(route53Fault(err).kind).toBe('aborted');
  });
});

describe('listing pages whose bytes did not change', () => {
  const page = (value: string, next?: string): string =>
    `<?xml version="1.0"?>\n<ListResourceRecordSetsResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ResourceRecordSets><ResourceRecordSet><Name>a.example.com.</Name><Type>A</Type><TTL>60</TTL><ResourceRecords><ResourceRecord><Value>${value}</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></ResourceRecordSets><IsTruncated>${next ? 'true' : 'false'}</IsTruncated>${next ? `<NextRecordName>${next}</NextRecordName><NextRecordType>A</NextRecordType>` : ''}<MaxItems>1</MaxItems></ListResourceRecordSetsResponse>`;
  const values = (answer: Awaited<ReturnType<Route53Api['listResourceRecordSets']>>): string[] =>
    (answer.ResourceRecordSets ?? []).flatMap((r) =>
      (r.ResourceRecords ?? []).map((v) => v.Value!),
    );
  const first = { HostedZoneId: 'Z1', MaxItems: 1 };

  it('hands out the answer already parsed, and parses a page that changed in one byte', async () => {
    reply = xml(200, page('192.0.2.1'));
    const parsed = await api.listResourceRecordSets(first);
    const again = await api.listResourceRecordSets(first);
    expect(again).toBe(parsed); // not parsed again
    reply = xml(200, page('192.0.2.2'));
    const changed = await api.listResourceRecordSets(first);
    expect(values(changed)).toEqual(['192.0.2.2']);
    expect(values(parsed)).toEqual(['192.0.2.1']); // what was handed out is never modified
  });

  it('keeps each page of a listing apart', async () => {
    reply = xml(200, page('192.0.2.10', 'b.example.com.'));
    const one = await api.listResourceRecordSets(first);
    reply = xml(200, page('192.0.2.11'));
    const second = { ...first, StartRecordName: 'b.example.com.', StartRecordType: 'A' as const };
    const two = await api.listResourceRecordSets(second);
    expect([values(one), values(two)]).toEqual([['192.0.2.10'], ['192.0.2.11']]);
    reply = xml(200, page('192.0.2.10', 'b.example.com.'));
    expect(await api.listResourceRecordSets(first)).toBe(one);
    // The same bytes for another page are that page's answer, parsed, not another page's.
    reply = xml(200, page('192.0.2.10', 'b.example.com.'));
    expect(values(await api.listResourceRecordSets(second))).toEqual(['192.0.2.10']);
    // Another zone's first page does not take the place of this zone's.
    reply = xml(200, page('192.0.2.12'));
    await api.listResourceRecordSets({ ...first, HostedZoneId: 'Z2' });
    reply = xml(200, page('192.0.2.10', 'b.example.com.'));
    expect(await api.listResourceRecordSets(first)).toBe(one);
  });

  it('keeps listing pages only: no other answer takes room', async () => {
    const pages = new KeptPages();
    const own = route53ApiFromSdk({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      pages,
    });
    reply = xml(
      200,
      `<?xml version="1.0"?>\n<GetHostedZoneResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><HostedZone><Id>/hostedzone/Z1</Id><Name>example.com.</Name><CallerReference>r</CallerReference></HostedZone></GetHostedZoneResponse>`,
    );
    await own.getHostedZone('Z1');
    expect(pages.bytes).toBe(0);
    reply = xml(200, page('192.0.2.40'));
    await own.listResourceRecordSets(first);
    expect(pages.bytes).toBeGreaterThan(0);
  });

  it("hands one policy's client what another client of the account parsed", async () => {
    const pages = new KeptPages();
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const client = () =>
      route53ApiFromSdk({
        region: 'us-east-1',
        endpoint,
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        pages,
      });
    reply = xml(200, page('192.0.2.30'));
    const parsed = await client().listResourceRecordSets(first);
    expect(await client().listResourceRecordSets(first)).toBe(parsed);
  });

  it('never answers an error with a kept page', async () => {
    reply = xml(200, page('192.0.2.20'));
    const kept = await api.listResourceRecordSets(first);
    reply = xml(400, errorResponse('Throttling', 'Rate exceeded'));
    const err: unknown = await api.listResourceRecordSets(first).catch((e: unknown) => e);
    expect(route53Fault(err)).toMatchObject({ kind: 'throttled' });
    // A failed answer is a failure whatever its body (a proxy's 503 with a copy of the page).
    reply = xml(503, page('192.0.2.20'));
    const failed: unknown = await api.listResourceRecordSets(first).catch((e: unknown) => e);
    expect(route53Fault(failed)).toMatchObject({ kind: 'unavailable' });
    reply = xml(200, page('192.0.2.20'));
    expect(await api.listResourceRecordSets(first)).toBe(kept);
  });
});
