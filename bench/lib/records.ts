import { randomBytes, randomUUID } from 'node:crypto';

/**
 * Realistic CloudTrail management records for benchmarks (~1.2 KB each): a few hundred event names over
 * twenty services, fifty IAM users, a thousand source IPs, real user agents, request parameters with
 * random resource ids, responses for writes, resources, TLS details, 5% access-denied errors; members in
 * AWS's order, as delivered log files have them.
 */
const SOURCES = [
  'ec2',
  's3',
  'iam',
  'sts',
  'lambda',
  'dynamodb',
  'kms',
  'cloudtrail',
  'rds',
  'logs',
  'sns',
  'sqs',
  'ssm',
  'secretsmanager',
  'ecs',
  'eks',
  'cloudformation',
  'autoscaling',
  'elasticloadbalancing',
  'route53',
];
const VERBS = ['Describe', 'List', 'Get', 'Create', 'Delete', 'Update', 'Put', 'Attach', 'Detach', 'Modify'];
const NOUNS = [
  'Instances',
  'Buckets',
  'Users',
  'Roles',
  'Functions',
  'Tables',
  'Keys',
  'Trails',
  'DBInstances',
  'LogGroups',
  'Topics',
  'Queues',
  'Parameters',
  'Secrets',
  'Clusters',
  'Stacks',
  'Policies',
  'Volumes',
  'SecurityGroups',
  'Snapshots',
];
const AGENTS = [
  'aws-cli/2.17.32 md/awscrt#0.21.2 ua/2.0 os/linux#5.15.0 md/arch#x86_64 lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.24 md/prompt#off md/command#ec2.describe-instances',
  'Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux#5.15.0 md/arch#x86_64 lang/python#3.11.7 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.0',
  'aws-sdk-js/3.540.0 ua/2.1 os/linux#5.15.0 lang/js md/nodejs#20.11.0 api/s3#3.540.0 m/E',
  'console.amazonaws.com',
  'terraform-provider-aws/5.40.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.25.3 os/linux lang/go#1.22.1 md/GOOS#linux md/GOARCH#amd64',
  'AWS Internal',
];

export class RecordGenerator {
  readonly #names: [string, string][] = [];
  readonly #users: { name: string; id: string; key: string }[];
  readonly #ips: string[];
  #seed = 42;

  readonly accountId: string;
  readonly region: string;

  constructor(accountId: string, region = 'us-east-1') {
    this.accountId = accountId;
    this.region = region;
    for (const s of SOURCES) for (let i = 0; i < 12; i++) this.#names.push([s, this.#pick(VERBS) + this.#pick(NOUNS)]);
    this.#users = Array.from({ length: 50 }, (_, i) => ({
      name: `user-${i}`,
      id: `AIDA${this.#seededHex(17).toUpperCase()}`,
      key: `AKIA${this.#seededHex(16).toUpperCase()}`,
    }));
    this.#ips = Array.from({ length: 1000 }, () =>
      [1, 2, 3, 4].map(() => Math.floor(this.#rand() * 254) + 1).join('.'),
    );
  }

  /** Deterministic choice of names and people; ids are truly random, like AWS's. */
  #rand(): number {
    this.#seed = (this.#seed * 1103515245 + 12345) % 2147483648;
    return this.#seed / 2147483648;
  }

  #pick<T>(a: readonly T[]): T {
    return a[Math.floor(this.#rand() * a.length)] as T;
  }

  /** The same in every generator: people and keys must match between a load and a later lookup run. */
  #seededHex(n: number): string {
    let out = '';
    for (let i = 0; i < n; i++) out += '0123456789abcdef'[Math.floor(this.#rand() * 16)];
    return out;
  }

  #hex(n: number): string {
    return randomBytes(Math.ceil(n / 2))
      .toString('hex')
      .slice(0, n);
  }

  get eventNames(): string[] {
    return this.#names.map(([, n]) => n);
  }

  get users(): { name: string; key: string }[] {
    return this.#users;
  }

  record(timeMs: number): Record<string, unknown> {
    const [src, name] = this.#pick(this.#names);
    const u = this.#pick(this.#users);
    const readOnly = /^(Describe|List|Get)/.test(name);
    const acct = this.accountId;
    const failed = this.#rand() < 0.05;
    // Members in AWS's order, as delivered log files have them: errorCode and errorMessage after userAgent,
    // resources after readOnly.
    return {
      eventVersion: '1.09',
      userIdentity: {
        type: 'IAMUser',
        principalId: u.id,
        arn: `arn:aws:iam::${acct}:user/${u.name}`,
        accountId: acct,
        accessKeyId: u.key,
        userName: u.name,
      },
      eventTime: new Date(timeMs).toISOString().slice(0, 19) + 'Z',
      eventSource: `${src}.amazonaws.com`,
      eventName: name,
      awsRegion: this.region,
      sourceIPAddress: this.#pick(this.#ips),
      userAgent: this.#pick(AGENTS),
      ...(failed
        ? {
            errorCode: 'AccessDenied',
            errorMessage: `User: arn:aws:iam::${acct}:user/${u.name} is not authorized to perform: ${src}:${name} because no identity-based policy allows the ${src}:${name} action`,
          }
        : {}),
      requestParameters: {
        resourceId: `i-${this.#hex(17)}`,
        filterSet: {
          items: [
            { name: 'tag:Team', valueSet: { items: [{ value: this.#pick(['payments', 'search', 'infra', 'data']) }] } },
          ],
        },
        maxResults: 1000,
        path: `/prod/${this.#pick(NOUNS).toLowerCase()}/${this.#hex(8)}`,
      },
      responseElements: readOnly
        ? null
        : {
            requestId: randomUUID(),
            _return: true,
            resourceArn: `arn:aws:${src}:${this.region}:${acct}:resource/${this.#hex(12)}`,
          },
      requestID: randomUUID(),
      eventID: randomUUID(),
      readOnly,
      ...(readOnly
        ? {}
        : {
            resources: [
              {
                accountId: acct,
                type: `AWS::${src.toUpperCase()}::Resource`,
                ARN: `arn:aws:${src}:${this.region}:${acct}:resource/${this.#hex(12)}`,
              },
            ],
          }),
      eventType: 'AwsApiCall',
      managementEvent: true,
      recipientAccountId: acct,
      eventCategory: 'Management',
      tlsDetails: {
        tlsVersion: 'TLSv1.3',
        cipherSuite: 'TLS_AES_128_GCM_SHA256',
        clientProvidedHostHeader: `${src}.${this.region}.amazonaws.com`,
      },
    };
  }
}
