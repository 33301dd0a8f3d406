/**
 * Route 53 canonical hosted zone IDs of AWS services that can be the target of an alias record.
 * Values are the published ones: "Elastic Load Balancing endpoints and quotas" (ALB/CLB and NLB
 * columns), "Amazon S3 website endpoints", "Amazon API Gateway endpoints" (regional), and the
 * Route 53 AliasTarget reference (CloudFront Z2FDTNDATAQYW2, Global Accelerator Z2BJ6XQ5FK7U4H).
 * VPC interface endpoints use the per-region zones AWS publishes for `*.vpce.amazonaws.com`.
 */

export type AwsAliasService =
  'elb' | 'nlb' | 'cloudfront' | 'globalaccelerator' | 'apigateway' | 'vpce' | 's3website';

/** Application and Classic Load Balancers: `name-123.<region>.elb.amazonaws.com`. */
export const ELB_ZONES: Readonly<Record<string, string>> = {
  'us-east-2': 'Z3AADJGX6KTTL2',
  'us-east-1': 'Z35SXDOTRQ7X7K',
  'us-west-1': 'Z368ELLRRE2KJ0',
  'us-west-2': 'Z1H1FL5HABSF5',
  'af-south-1': 'Z268VQBMOI5EKX',
  'ap-east-1': 'Z3DQVH9N71FHZ0',
  'ap-south-1': 'ZP97RAFLXTNZK',
  'ap-south-2': 'Z0173938T07WNTVAEPZN',
  'ap-northeast-1': 'Z14GRHDCWA56QT',
  'ap-northeast-2': 'ZWKZPGTI48KDX',
  'ap-northeast-3': 'Z5LXEXXYW11ES',
  'ap-southeast-1': 'Z1LMS91P8CMLE5',
  'ap-southeast-2': 'Z1GM3OXH4ZPM65',
  'ap-southeast-3': 'Z08888821HLRG5A9ZRTER',
  'ap-southeast-4': 'Z09517862IB2WZLPXG76F',
  'ap-southeast-5': 'Z06010284QMVVW7WO5J',
  'ap-southeast-7': 'Z0390008CMBRTHFGWBCB',
  'ca-central-1': 'ZQSVJUPU6J1EY',
  'ca-west-1': 'Z06473681N0SF6OS049SD',
  'eu-central-1': 'Z215JYRZR1TBD5',
  'eu-central-2': 'Z06391101F2ZOEP8P5EB3',
  'eu-west-1': 'Z32O12XQLNTSW2',
  'eu-west-2': 'ZHURV8PSTC4K8',
  'eu-west-3': 'Z3Q77PNBQS71R4',
  'eu-north-1': 'Z23TAZ6LKFMNIO',
  'eu-south-1': 'Z3ULH7SSC9OV64',
  'eu-south-2': 'Z0956581394HF5D5LXGAP',
  'il-central-1': 'Z09170902867EHPV2DABU',
  'me-central-1': 'Z08230872XQRWHG2XF6I',
  'me-south-1': 'ZS929ML54UICD',
  'mx-central-1': 'Z023552324OKD1BB28BH5',
  'sa-east-1': 'Z2P70J7HTTTPLU',
  'us-gov-east-1': 'Z166TLBEWOO7G0',
  'us-gov-west-1': 'Z33AYJ8TM3BH4J',
  'cn-north-1': 'Z1GDH35T77C1KE',
  'cn-northwest-1': 'ZM7IZAIOVVDZF',
};

/** Network Load Balancers: `name-123.elb.<region>.amazonaws.com`. */
export const NLB_ZONES: Readonly<Record<string, string>> = {
  'us-east-2': 'ZLMOA37VPKANP',
  'us-east-1': 'Z26RNL4JYFTOTI',
  'us-west-1': 'Z24FKFUX50B4VW',
  'us-west-2': 'Z18D5FSROUN65G',
  'af-south-1': 'Z203XCE67M25HM',
  'ap-east-1': 'Z12Y7K3UBGUAD1',
  'ap-south-1': 'ZVDDRBQ08TROA',
  'ap-south-2': 'Z0711778386UTO08407HT',
  'ap-northeast-1': 'Z31USIVHYNEOWT',
  'ap-northeast-2': 'ZIBE1TIR4HY56',
  'ap-northeast-3': 'Z1GWIQ4HH19I5X',
  'ap-southeast-1': 'ZKVM4W9LS7TM',
  'ap-southeast-2': 'ZCT6FZBF4DROD',
  'ap-southeast-3': 'Z01971771FYVNCOVWJU1G',
  'ap-southeast-4': 'Z01156963G8MIIL7X90IV',
  'ap-southeast-5': 'Z026317210H9ACVTRO6FB',
  'ap-southeast-7': 'Z054363131YWATEMWRG5L',
  'ca-central-1': 'Z2EPGBW3API2WT',
  'ca-west-1': 'Z02754302KBB00W2LKWZ9',
  'eu-central-1': 'Z3F0SRJ5LGBH90',
  'eu-central-2': 'Z02239872DOALSIDCX66S',
  'eu-west-1': 'Z2IFOLAFXWLO4F',
  'eu-west-2': 'ZD4D7Y8KGAS4G',
  'eu-west-3': 'Z1CMS0P5QUZ6D5',
  'eu-north-1': 'Z1UDT6IFJ4EJM',
  'eu-south-1': 'Z23146JA1KNAFP',
  'eu-south-2': 'Z1011216NVTVYADP1SSV',
  'il-central-1': 'Z0313266YDI6ZRHTGQY4',
  'me-central-1': 'Z00282643NTTLPANJJG2P',
  'me-south-1': 'Z3QSRYVP46NYYV',
  'mx-central-1': 'Z02031231H3ID6HYJ9A7U',
  'sa-east-1': 'ZTK26PT1VY4CU',
  'us-gov-east-1': 'Z1ZSMQQ6Q24QQ8',
  'us-gov-west-1': 'ZMG1MZ2THAWF1',
  'cn-north-1': 'Z3QFB96KMJ7ED6',
  'cn-northwest-1': 'ZQEIKTCZ8352D',
};

/** API Gateway regional custom domains: `d-abc.execute-api.<region>.amazonaws.com`. */
export const API_GATEWAY_ZONES: Readonly<Record<string, string>> = {
  'us-east-2': 'ZOJJZC49E0EPZ',
  'us-east-1': 'Z1UJRXOUMOOFQ8',
  'us-west-1': 'Z2MUQ32089INYE',
  'us-west-2': 'Z2OJLYMUO9EFXC',
  'af-south-1': 'Z2DHW2332DAMTN',
  'ap-east-1': 'Z3FD1VL90ND7K5',
  'ap-south-1': 'Z3VO1THU9YC4UR',
  'ap-northeast-1': 'Z1YSHQZHG15GKL',
  'ap-northeast-2': 'Z20JF4UZKIW1U8',
  'ap-southeast-1': 'ZL327KTPIQFUL',
  'ap-southeast-2': 'Z2RPCDW04V8134',
  'ca-central-1': 'Z19DQILCV0OWEC',
  'eu-central-1': 'Z1U9ULNL0V5AJ3',
  'eu-west-1': 'ZLY8HYME6SFDD',
  'eu-west-2': 'ZJ5UAJN8Y3Z2Q',
  'eu-west-3': 'Z3KY65QIEKYHQQ',
  'eu-north-1': 'Z3UWIKFBOOGXPP',
  'eu-south-1': 'Z3BT4WSQ9TDYZV',
  'eu-south-2': 'Z02499852UI5HEQ5JVWX3',
  'me-south-1': 'Z20ZBPC0SS8806',
  'me-central-1': 'Z08780021BKYYY8U0YHTV',
  'sa-east-1': 'ZCMLWB8V5SYIT',
  'us-gov-east-1': 'Z3SE9ATJYCRCZJ',
  'us-gov-west-1': 'Z1K6XKP9SAGWDV',
};

/** VPC interface endpoints: `vpce-...<region>.vpce.amazonaws.com`. */
export const VPCE_ZONES: Readonly<Record<string, string>> = {
  'us-east-1': 'Z7HUB22UULQXV',
  'us-east-2': 'ZC8PG0KIFKBRI',
  'us-west-1': 'Z12I86A8N7VCZO',
  'us-west-2': 'Z1YSA3EXCYUU9Z',
  'af-south-1': 'Z09302161J80N9A7UTP7U',
  'ap-east-1': 'Z2LIHJ7PKBEMWN',
  'ap-northeast-1': 'Z2E726K9Y6RL4W',
  'ap-northeast-2': 'Z27UANNT0PRK1T',
  'ap-northeast-3': 'Z376B5OMM2JZL2',
  'ap-south-1': 'Z2KVTB3ZLFM7JR',
  'ap-south-2': 'Z0952991RWSF5AHIQDIY',
  'ap-southeast-1': 'Z18LLCSTV4NVNL',
  'ap-southeast-2': 'ZDK2GCRPAFKGO',
  'ap-southeast-3': 'Z03881013RZ9BYYZO8N5W',
  'ap-southeast-4': 'Z07508191CO1RNBX3X3AU',
  'ca-central-1': 'ZRCXCF510Y6P9',
  'eu-central-1': 'Z273ZU8SZ5RJPC',
  'eu-central-2': 'Z045369019J4FUQ4S272E',
  'eu-north-1': 'Z3OWWK6JFDEDGC',
  'eu-south-1': 'Z2A5FDNRLY7KZG',
  'eu-south-2': 'Z014396544HENR57XQCJ',
  'eu-west-1': 'Z38GZ743OKFT7T',
  'eu-west-2': 'Z7K1066E3PUKB',
  'eu-west-3': 'Z1DWHTMFP0WECP',
  'me-central-1': 'Z07122992YCEUCB9A9570',
  'me-south-1': 'Z3B95P3VBGEQGY',
  'sa-east-1': 'Z2LXUWEVLCVZIB',
  'us-gov-east-1': 'Z2MU5TEIGO9WXB',
  'us-gov-west-1': 'Z12529ZODG2B6H',
};

/** S3 static website endpoints: `bucket.s3-website-<region>.amazonaws.com` or `s3-website.<region>`. */
export const S3_WEBSITE_ZONES: Readonly<Record<string, string>> = {
  'us-east-1': 'Z3AQBSTGFYJSTF',
  'us-east-2': 'Z2O1EMRO9K5GLX',
  'us-west-1': 'Z2F56UZL2M1ACD',
  'us-west-2': 'Z3BJ6K6RIION7M',
  'ca-central-1': 'Z1QDHH18159H29',
  'ap-south-1': 'Z11RGJOFQNVJUP',
  'ap-northeast-1': 'Z2M4EHUR26P7ZW',
  'ap-northeast-2': 'Z3W03O7B5YMIYP',
  'ap-southeast-1': 'Z3O0J2DXBE1FTB',
  'ap-southeast-2': 'Z1WCIGYICN2BYD',
  'eu-central-1': 'Z21DNDUVLTQW6Q',
  'eu-west-1': 'Z1BKCTXD74EZPE',
  'eu-west-2': 'Z3GKZC51ZF0DB4',
  'eu-west-3': 'Z3R1K369G5AVDG',
  'sa-east-1': 'Z7KQH4QJS55SO',
  'us-gov-west-1': 'Z31GFT0UA1I2HV',
};

export const CLOUDFRONT_ZONE = 'Z2FDTNDATAQYW2';
export const GLOBAL_ACCELERATOR_ZONE = 'Z2BJ6XQ5FK7U4H';

export interface CanonicalZone {
  readonly service: AwsAliasService;
  readonly hostedZoneId: string;
  /** The DNSName to put in the AliasTarget (S3 website: the regional endpoint, not the bucket). */
  readonly dnsName: string;
}

const REGION = '([a-z]{2}(?:-[a-z]+)+-\\d+)';
const PATTERNS: readonly {
  readonly service: AwsAliasService;
  readonly re: RegExp;
  readonly zones: Readonly<Record<string, string>>;
}[] = [
  {
    service: 'elb',
    re: new RegExp(`\\.${REGION}\\.elb\\.amazonaws\\.com(?:\\.cn)?$`),
    zones: ELB_ZONES,
  },
  {
    service: 'nlb',
    re: new RegExp(`\\.elb\\.${REGION}\\.amazonaws\\.com(?:\\.cn)?$`),
    zones: NLB_ZONES,
  },
  {
    service: 'apigateway',
    re: new RegExp(`\\.execute-api\\.${REGION}\\.amazonaws\\.com$`),
    zones: API_GATEWAY_ZONES,
  },
  { service: 'vpce', re: new RegExp(`\\.${REGION}\\.vpce\\.amazonaws\\.com$`), zones: VPCE_ZONES },
  {
    service: 's3website',
    re: new RegExp(`(?:^|\\.)s3-website[-.]${REGION}\\.amazonaws\\.com$`),
    zones: S3_WEBSITE_ZONES,
  },
];

/**
 * The canonical hosted zone of an AWS service hostname, or undefined for any other name
 * (including AWS names in a region whose zone is not published).
 */
export function canonicalZoneFor(hostname: string): CanonicalZone | undefined {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  if (host.endsWith('.cloudfront.net')) {
    return { service: 'cloudfront', hostedZoneId: CLOUDFRONT_ZONE, dnsName: host };
  }
  if (host.endsWith('.awsglobalaccelerator.com')) {
    return { service: 'globalaccelerator', hostedZoneId: GLOBAL_ACCELERATOR_ZONE, dnsName: host };
  }
  for (const { service, re, zones } of PATTERNS) {
    const match = re.exec(host);
    const region = match?.[1];
    if (region === undefined) continue;
    const hostedZoneId = zones[region];
    if (hostedZoneId === undefined) return undefined;
    // An S3 website alias names the regional website endpoint; the bucket is the record name.
    const dnsName = service === 's3website' ? host.slice(host.indexOf('s3-website')) : host;
    return { service, hostedZoneId, dnsName };
  }
  return undefined;
}
