// Configuration of the tapwave CDK app.
//
// Every value comes from CDK context: `cdk.json` holds the defaults (and the availability zones, so that
// synthesis never looks anything up), and any key can be overridden on the command line with
// `-c key=value` (numbers and booleans are parsed, lists are comma-separated).


/**
 * The project's own benchmark figures, used to size the api service and its autoscaling targets.
 *
 * Source: bench/RESULTS.md, row "PostgreSQL + Redis" (one `tapwave api` instance, 3000 players,
 * 10 taps per batch): 1068 tap batches/s with p99 50 ms. That run shared 2 cores between the load
 * generator, PostgreSQL, Redis and the server, so the server had about one core: the figure is taken
 * as the rate of a 1-vCPU task (rounded down), whose database and Redis live elsewhere. Re-run the
 * benchmark and update these numbers together when `apiCpu`/`apiMemoryMiB` change.
 */
export const BENCH = {
  /** The file these figures come from. */
  source: 'bench/RESULTS.md',
  /** vCPU units and memory of the task the figures stand for. */
  taskCpu: 1024,
  taskMemoryMiB: 2048,
  /**
   * Sustained `POST /api/v1/taps` batches per second per task: the PostgreSQL + Redis row of
   * bench/RESULTS.md measured 726–1121 batches/s across runs on a 2-core machine where the server
   * shared the cores with the load generator, PostgreSQL and Redis; a 1-vCPU task talking to Aurora
   * and ElastiCache gets its core to itself, so 1000 is the round figure used, at p99 ≈ 50 ms.
   */
  tapBatchesPerSecPerTask: 1000,
  /** p99 latency (ms) of `POST /api/v1/taps` at that rate. */
  tapP99Ms: 50,
  /** Every other API call a playing player makes, as a fraction of tap batches (me, leaderboard, ...). */
  otherRequestsPerTapBatch: 0.1,
} as const;

/**
 * Fraction of the benchmarked capacity a task should run at in steady state. Half leaves room for the
 * 1-3 minutes a scale-out takes (new Fargate task pull + start + ALB health checks) during a spike.
 */
export const TARGET_UTILISATION = 0.5;

/**
 * ALB `RequestCountPerTarget` is requests per target per minute. One playing player sends about one
 * tap batch a second plus a few other calls, so a task's request budget per minute is
 * batches/s x (1 + other) x 60 x utilisation.
 */
export function apiRequestsPerTargetPerMinute(): number {
  return Math.floor(
    BENCH.tapBatchesPerSecPerTask * (1 + BENCH.otherRequestsPerTapBatch) * 60 * TARGET_UTILISATION,
  );
}

/**
 * IDs of the AWS-managed prefix list `com.amazonaws.global.cloudfront.origin-facing` per region.
 * Look one up with
 * `aws ec2 describe-managed-prefix-lists --filters Name=prefix-list-name,Values=com.amazonaws.global.cloudfront.origin-facing`
 * and pass `-c cloudFrontPrefixListId=pl-...` for a region missing here.
 */
export const CLOUDFRONT_ORIGIN_FACING_PREFIX_LISTS: Record<string, string> = {
  'ap-northeast-1': 'pl-58a04531',
  'ap-northeast-2': 'pl-22a6434b',
  'ap-south-1': 'pl-9aa247f3',
  'ap-southeast-1': 'pl-31a34658',
  'ap-southeast-2': 'pl-b8a742d1',
  'ca-central-1': 'pl-38a64351',
  'eu-central-1': 'pl-a3a144ca',
  'eu-north-1': 'pl-fab65393',
  'eu-west-1': 'pl-4fa04526',
  'eu-west-2': 'pl-93a247fa',
  'eu-west-3': 'pl-75b1541c',
  'sa-east-1': 'pl-5da64334',
  'us-east-1': 'pl-3b927c52',
  'us-east-2': 'pl-b6a144df',
  'us-west-1': 'pl-4ea04527',
  'us-west-2': 'pl-82a045eb',
};

/** Header CloudFront adds to every request to the ALB; the ALB forwards only requests carrying it. */
export const ORIGIN_VERIFY_HEADER = 'X-Tapwave-Origin-Verify';

/** Paths the ALB routes (and CloudFront sends to the ALB instead of S3). */
export const ROUTES = {
  api: '/api/*',
  webhook: '/telegram/webhook',
} as const;

/** The port every tapwave container listens on (BIND=0.0.0.0:8080). */
export const APP_PORT = 8080;

export interface TaskSize {
  cpu: number;
  memoryMiB: number;
}

export interface TapwaveConfig {
  appName: string;
  /** Region that holds the Aurora writer, CloudFront, the Mini App bucket and the ECR repository. */
  primaryRegion: string;
  /** Further regions with a full regional stack (Aurora Global Database secondary, own Redis). */
  secondaryRegions: string[];
  /** Availability zones per region; three are used. */
  availabilityZones: Record<string, string[]>;
  /** VPC CIDR per region (distinct, so regions can be peered later). */
  vpcCidrs: Record<string, string>;
  /** NAT gateways per region: one per AZ by default; 1 halves the cost and loses AZ independence. */
  natGateways: number;

  /** Public host name of the Mini App, e.g. `play.example.com`. */
  domainName: string;
  /** Route 53 hosted zone that holds `domainName` and the origin record. */
  hostedZoneId: string;
  hostedZoneName: string;
  /** Host name CloudFront uses to reach the ALBs (latency-routed across regions). */
  originDomainName: string;
  /** ACM certificate in us-east-1 for `domainName`; without one CloudFront serves its own domain. */
  cloudFrontCertificateArn?: string;
  /** Optional WAFv2 web ACL (scope CLOUDFRONT, in us-east-1) to attach to the distribution. */
  webAclArn?: string;
  /** Override of the CloudFront origin-facing prefix list id (else from the table above). */
  cloudFrontPrefixListId?: string;
  /** CloudFront price class: 100, 200 or All. */
  priceClass: string;

  /** Image tag in the ECR repository (a git commit); without it only the image registry stack is synthesised. */
  imageTag?: string;
  /** Name of the ECR repository. */
  repositoryName: string;
  /** CPU architecture of the image: X86_64 or ARM64. */
  cpuArchitecture: string;
  /** CloudWatch agent image that scrapes /metrics in a sidecar. */
  cloudWatchAgentImage: string;
  /** Folder with the Mini App files, relative to deploy/. */
  staticDir: string;

  /** dbConnections: the database pool of one task (DB_MAX_CONNECTIONS); tasks x pool < max_connections. */
  api: TaskSize & { minTasks: number; maxTasks: number; cpuTarget: number; dbConnections: number };
  bot: TaskSize & { tasks: number; dbConnections: number };
  worker: TaskSize & { minTasks: number; maxTasks: number; cpuTarget: number; dbConnections: number };
  /** Task counts in secondary regions (docs/MULTI-REGION.md). */
  secondary: { apiMinTasks: number; botTasks: number; workerMinTasks: number };

  db: {
    minAcu: number;
    maxAcu: number;
    readers: number;
    backupRetentionDays: number;
    /**
     * Connections alarm threshold. Serverless v2 derives max_connections from the ACU ceiling
     * (5000 at 32 ACU); the default pools (api 16 x 60 tasks, worker 8 x 10, bot 4 x 2) stay near 1100.
     */
    connectionsAlarm: number;
  };
  redis: { nodeType: string; replicas: number; engineVersion: string };

  adminIds: string;
  alarmEmail?: string;
  logRetentionDays: number;
  /** Alarm thresholds for the application's own figures. */
  alarms: {
    http5xxPercent: number;
    p99LatencySeconds: number;
    cpuPercent: number;
    redisMemoryPercent: number;
    flushLagSeconds: number;
    claimsPending: number;
  };
}

/** Reads a context value the way `-c key=value` and `cdk.json` provide it. */
export interface ContextReader {
  tryGetContext(key: string): unknown;
}

function str(ctx: ContextReader, key: string, fallback?: string): string | undefined {
  const v = ctx.tryGetContext(key);
  if (v === undefined || v === null || v === '') return fallback;
  return String(v);
}

function num(ctx: ContextReader, key: string, fallback: number): number {
  const v = ctx.tryGetContext(key);
  if (v === undefined || v === null || v === '') return fallback;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n)) throw new Error(`context ${key}: expected a number, got ${JSON.stringify(v)}`);
  return n;
}

function list(ctx: ContextReader, key: string): string[] {
  const v = ctx.tryGetContext(key);
  if (v === undefined || v === null || v === '') return [];
  if (Array.isArray(v)) return v.map(String);
  return String(v)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function record<T>(ctx: ContextReader, key: string): Record<string, T> {
  const v = ctx.tryGetContext(key);
  if (v === undefined || v === null) return {};
  if (typeof v === 'string') return JSON.parse(v) as Record<string, T>;
  return v as Record<string, T>;
}


export function loadConfig(ctx: ContextReader): TapwaveConfig {
  const primaryRegion = str(ctx, 'primaryRegion', 'eu-central-1')!;
  const secondaryRegions = list(ctx, 'secondaryRegions').filter((r) => r !== primaryRegion);
  const domainName = str(ctx, 'domainName')!;
  if (!domainName) throw new Error('context domainName is required (the public host of the Mini App)');

  const cfg: TapwaveConfig = {
    appName: str(ctx, 'appName', 'tapwave')!,
    primaryRegion,
    secondaryRegions,
    availabilityZones: record<string[]>(ctx, 'availabilityZones'),
    vpcCidrs: record<string>(ctx, 'vpcCidrs'),
    natGateways: num(ctx, 'natGateways', 3),
    domainName,
    hostedZoneId: str(ctx, 'hostedZoneId')!,
    hostedZoneName: str(ctx, 'hostedZoneName')!,
    originDomainName: str(ctx, 'originDomainName', `api-origin.${domainName}`)!,
    cloudFrontCertificateArn: str(ctx, 'cloudFrontCertificateArn'),
    webAclArn: str(ctx, 'webAclArn'),
    cloudFrontPrefixListId: str(ctx, 'cloudFrontPrefixListId'),
    priceClass: str(ctx, 'priceClass', 'All')!,
    imageTag: str(ctx, 'imageTag'),
    repositoryName: str(ctx, 'repositoryName', 'tapwave')!,
    cpuArchitecture: str(ctx, 'cpuArchitecture', 'X86_64')!,
    cloudWatchAgentImage: str(
      ctx,
      'cloudWatchAgentImage',
      'public.ecr.aws/cloudwatch-agent/cloudwatch-agent:1.300042.1b746',
    )!,
    staticDir: str(ctx, 'staticDir', '../static')!,
    api: {
      cpu: num(ctx, 'apiCpu', BENCH.taskCpu),
      memoryMiB: num(ctx, 'apiMemoryMiB', BENCH.taskMemoryMiB),
      minTasks: num(ctx, 'apiMinTasks', 3),
      maxTasks: num(ctx, 'apiMaxTasks', 60),
      cpuTarget: num(ctx, 'apiCpuTarget', 60),
      dbConnections: num(ctx, 'apiDbConnections', 16),
    },
    bot: {
      cpu: num(ctx, 'botCpu', 256),
      memoryMiB: num(ctx, 'botMemoryMiB', 512),
      tasks: num(ctx, 'botTasks', 2),
      dbConnections: num(ctx, 'botDbConnections', 4),
    },
    worker: {
      cpu: num(ctx, 'workerCpu', 512),
      memoryMiB: num(ctx, 'workerMemoryMiB', 1024),
      minTasks: num(ctx, 'workerMinTasks', 2),
      maxTasks: num(ctx, 'workerMaxTasks', 10),
      cpuTarget: num(ctx, 'workerCpuTarget', 70),
      dbConnections: num(ctx, 'workerDbConnections', 8),
    },
    secondary: {
      apiMinTasks: num(ctx, 'secondaryApiMinTasks', 2),
      botTasks: num(ctx, 'secondaryBotTasks', 1),
      workerMinTasks: num(ctx, 'secondaryWorkerMinTasks', 1),
    },
    db: {
      minAcu: num(ctx, 'dbMinAcu', 0.5),
      maxAcu: num(ctx, 'dbMaxAcu', 32),
      readers: num(ctx, 'dbReaders', 1),
      backupRetentionDays: num(ctx, 'dbBackupRetentionDays', 14),
      connectionsAlarm: num(ctx, 'dbConnectionsAlarm', 4000),
    },
    redis: {
      nodeType: str(ctx, 'redisNodeType', 'cache.r7g.large')!,
      replicas: num(ctx, 'redisReplicas', 2),
      engineVersion: str(ctx, 'redisEngineVersion', '7.1')!,
    },
    adminIds: str(ctx, 'adminIds', '')!,
    alarmEmail: str(ctx, 'alarmEmail'),
    logRetentionDays: num(ctx, 'logRetentionDays', 30),
    alarms: {
      http5xxPercent: num(ctx, 'alarm5xxPercent', 1),
      p99LatencySeconds: num(ctx, 'alarmP99Seconds', 0.5),
      cpuPercent: num(ctx, 'alarmCpuPercent', 85),
      redisMemoryPercent: num(ctx, 'alarmRedisMemoryPercent', 75),
      flushLagSeconds: num(ctx, 'alarmFlushLagSeconds', 30),
      claimsPending: num(ctx, 'alarmClaimsPending', 500),
    },
  };

  for (const region of [primaryRegion, ...secondaryRegions]) {
    const azs = cfg.availabilityZones[region];
    if (!azs || azs.length < 2) {
      throw new Error(`context availabilityZones.${region}: give at least two zones (three recommended)`);
    }
    if (!cfg.vpcCidrs[region]) throw new Error(`context vpcCidrs.${region} is missing`);
  }
  if (!cfg.hostedZoneId || !cfg.hostedZoneName) {
    throw new Error('context hostedZoneId and hostedZoneName are required (the ALB origin needs a certificate)');
  }
  if (cfg.secondaryRegions.length > 0 && !cfg.cloudFrontCertificateArn) {
    throw new Error('several regions need cloudFrontCertificateArn: every region must know the public URL');
  }
  if (!['X86_64', 'ARM64'].includes(cfg.cpuArchitecture)) {
    throw new Error('context cpuArchitecture must be X86_64 or ARM64');
  }
  return cfg;
}

/** Short, stable name for a region, used in physical names: eu-central-1 -> euc1. */
export function regionShort(region: string): string {
  const [geo, dir, n] = region.split('-');
  return `${geo}${(dir ?? '').replace(/(north|south|east|west|central)/g, (d) => d[0])}${n ?? ''}`;
}

export function prefixListFor(cfg: TapwaveConfig, region: string): string {
  const id = cfg.cloudFrontPrefixListId ?? CLOUDFRONT_ORIGIN_FACING_PREFIX_LISTS[region];
  if (!id) {
    throw new Error(
      `no CloudFront origin-facing prefix list known for ${region}: pass -c cloudFrontPrefixListId=pl-...`,
    );
  }
  return id;
}
