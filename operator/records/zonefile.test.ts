import { parseZoneFile, ZoneFileError, type ZoneRecord } from './zonefile';

const rows = (text: string): [string, number, string, string][] =>
  parseZoneFile(text).map((r: ZoneRecord) => [r.name, r.ttl, r.type, r.data]);

describe('parseZoneFile: what BIND and Cloud DNS exports hold', () => {
  it.each<[string, string, [string, number, string, string][]]>([
    [
      '$ORIGIN, $TTL, @ and relative names',
      '$ORIGIN example.com.\n$TTL 300\n@ IN A 192.0.2.1\nwww IN A 192.0.2.2\n',
      [
        ['example.com', 300, 'A', '192.0.2.1'],
        ['www.example.com', 300, 'A', '192.0.2.2'],
      ],
    ],
    [
      'absolute names with TTL and class in either order (gcloud export)',
      'app.example.com. 60 IN A 192.0.2.1\napp.example.com. IN 60 AAAA 2001:db8::1\n',
      [
        ['app.example.com', 60, 'A', '192.0.2.1'],
        ['app.example.com', 60, 'AAAA', '2001:db8::1'],
      ],
    ],
    [
      'a blank owner repeats the previous one; class omitted',
      '$ORIGIN example.com.\n$TTL 1h\napp A 192.0.2.1\n    A 192.0.2.2\n',
      [
        ['app.example.com', 3600, 'A', '192.0.2.1'],
        ['app.example.com', 3600, 'A', '192.0.2.2'],
      ],
    ],
    [
      'BIND TTL units',
      '$ORIGIN example.com.\na 1h30m A 192.0.2.1\nb 1W A 192.0.2.2\n',
      [
        ['a.example.com', 5400, 'A', '192.0.2.1'],
        ['b.example.com', 604800, 'A', '192.0.2.2'],
      ],
    ],
    [
      'no $TTL: the last stated TTL carries on (RFC 1035)',
      '$ORIGIN example.com.\na 120 A 192.0.2.1\nb A 192.0.2.2\n',
      [
        ['a.example.com', 120, 'A', '192.0.2.1'],
        ['b.example.com', 120, 'A', '192.0.2.2'],
      ],
    ],
    [
      'multi-string TXT, quotes and escapes kept, comments dropped',
      '$ORIGIN example.com.\n$TTL 300\nt TXT "v=spf1 ; not a comment" "part\\"two" ; a comment\nu TXT word\n',
      [
        ['t.example.com', 300, 'TXT', '"v=spf1 ; not a comment" "part\\"two"'],
        ['u.example.com', 300, 'TXT', '"word"'],
      ],
    ],
    [
      'parentheses span lines (SOA, long TXT)',
      '$ORIGIN example.com.\n$TTL 300\n@ IN SOA ns1 hostmaster (\n  1 ; serial\n  7200 3600 1209600 300 )\nlong TXT ( "a"\n  "b" )\n',
      [
        ['example.com', 300, 'SOA', 'ns1 hostmaster 1 7200 3600 1209600 300'],
        ['long.example.com', 300, 'TXT', '"a" "b"'],
      ],
    ],
    [
      'CNAME and SRV targets are made absolute, lower case',
      '$ORIGIN Example.COM.\n$TTL 300\nwww CNAME Lb\n_http._tcp SRV 0 50 8080 node1\nx CNAME other.example.net.\n',
      [
        ['www.example.com', 300, 'CNAME', 'lb.example.com'],
        ['_http._tcp.example.com', 300, 'SRV', '0 50 8080 node1.example.com.'],
        ['x.example.com', 300, 'CNAME', 'other.example.net'],
      ],
    ],
    [
      'a wildcard, written plain or escaped (\\DDD is decimal)',
      '$ORIGIN example.com.\n$TTL 300\n* A 192.0.2.9\n\\042.sub A 192.0.2.8\n',
      [
        ['*.example.com', 300, 'A', '192.0.2.9'],
        ['*.sub.example.com', 300, 'A', '192.0.2.8'],
      ],
    ],
    [
      'other types are read, not checked in depth',
      '$ORIGIN example.com.\n$TTL 300\n@ NS ns1.example.net.\n@ MX 10 mail\n@ CAA 0 issue "letsencrypt.org"\n',
      [
        ['example.com', 300, 'NS', 'ns1.example.net.'],
        ['example.com', 300, 'MX', '10 mail'],
        ['example.com', 300, 'CAA', '0 issue "letsencrypt.org"'],
      ],
    ],
    [
      'CRLF line ends',
      '$ORIGIN example.com.\r\n$TTL 300\r\na A 192.0.2.1\r\n',
      [['a.example.com', 300, 'A', '192.0.2.1']],
    ],
  ])('%s', (_what, text, want) => {
    expect(rows(text)).toEqual(want);
  });
});

describe('parseZoneFile: every fault has its line and a reason', () => {
  it.each<[string, string, number, string]>([
    ['relative name without $ORIGIN', '$TTL 300\nwww A 192.0.2.1\n', 2, 'no $ORIGIN'],
    ['no TTL at all', '$ORIGIN example.com.\nwww A 192.0.2.1\n', 2, 'has no TTL'],
    ['bad IPv4', '$ORIGIN example.com.\n$TTL 300\n\nwww A 192.0.2.300\n', 4, 'not an IPv4 address'],
    ['bad IPv6', '$ORIGIN example.com.\n$TTL 300\nwww AAAA 192.0.2.1\n', 3, 'not an IPv6 address'],
    [
      'two addresses on one A line',
      '$ORIGIN example.com.\n$TTL 300\nwww A 192.0.2.1 192.0.2.2\n',
      3,
      'one address',
    ],
    [
      'unknown type',
      '$ORIGIN example.com.\n$TTL 300\nwww AA 192.0.2.1\n',
      3,
      'unknown record type "AA"',
    ],
    ['no data', '$ORIGIN example.com.\n$TTL 300\nwww A\n', 3, 'has no data'],
    ['class CH', '$ORIGIN example.com.\n$TTL 300\nwww CH TXT "x"\n', 3, 'class CH'],
    ['unterminated quote', '$ORIGIN example.com.\n$TTL 300\nt TXT "abc\n', 3, 'unterminated'],
    [
      'unclosed parenthesis',
      '$ORIGIN example.com.\n$TTL 300\n@ SOA ns1 h (\n 1 2 3 4 5\n',
      3,
      'never closed',
    ],
    [
      'stray parenthesis',
      '$ORIGIN example.com.\n$TTL 300\na A 192.0.2.1 )\n',
      3,
      'without a matching',
    ],
    ['$INCLUDE', '$ORIGIN example.com.\n$INCLUDE other.zone\n', 2, '$INCLUDE is not supported'],
    ['unknown directive', '$ORIGN example.com.\n', 1, 'unknown directive'],
    ['blank owner on the first record', '$TTL 300\n  A 192.0.2.1\n', 2, 'no owner name'],
    [
      'SRV port out of range',
      '$ORIGIN example.com.\n$TTL 300\ns SRV 0 0 70000 t\n',
      3,
      'port "70000"',
    ],
    [
      'TXT string over 255 octets',
      `$ORIGIN example.com.\n$TTL 300\nt TXT "${'x'.repeat(256)}"\n`,
      3,
      '256 octets',
    ],
    [
      'label over 63 characters',
      `$ORIGIN example.com.\n$TTL 300\n${'a'.repeat(64)} A 192.0.2.1\n`,
      3,
      'longer than 63',
    ],
    ['empty label', '$ORIGIN example.com.\n$TTL 300\na..b A 192.0.2.1\n', 3, 'empty label'],
  ])('%s', (_what, text, line, reason) => {
    let error: unknown;
    try {
      parseZoneFile(text);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ZoneFileError);
    expect((error as ZoneFileError).line).toBe(line);
    expect((error as ZoneFileError).reason).toContain(reason);
  });
});
