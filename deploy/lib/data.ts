// Stateful tier: Aurora PostgreSQL (Serverless v2) and ElastiCache for Redis, both in isolated
// subnets, encrypted with the region's data key, reachable only from the security groups that the
// services construct admits (`allowFrom`).
//
// In a secondary region the Aurora cluster joins the primary's Global Database as a read-only
// secondary with write forwarding (docs/MULTI-REGION.md); Redis is always regional.

import { Duration, Fn, RemovalPolicy, SecretValue, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

export const DB_PORT = 5432;
export const REDIS_PORT = 6379;
export const DB_NAME = 'tapwave';
export const DB_USER = 'tapwave';

export interface DataProps {
  appName: string;
  vpc: ec2.IVpc;
  key: kms.IKey;
  logRetention: logs.RetentionDays;
  /** Name of this region's cluster and replication group (lowercase, unique in the region). */
  resourceName: string;
  /** 'primary' owns the writer and the master secret; 'secondary' joins the global cluster. */
  role: 'primary' | 'secondary';
  /** Regions the master secret is replicated to (the primary's secondaries). */
  replicaRegions: string[];
  /** Identifier of the Aurora Global Database (when there are several regions). */
  globalClusterIdentifier?: string;
  db: { minAcu: number; maxAcu: number; readers: number; backupRetentionDays: number };
  redis: { nodeType: string; replicas: number; engineVersion: string };
}

/** Name of the master credentials secret; replicated under the same name to the secondary regions. */
export function masterSecretName(appName: string): string {
  return `${appName}/database/master`;
}

export class Data extends Construct {
  readonly dbSecurityGroup: ec2.SecurityGroup;
  readonly redisSecurityGroup: ec2.SecurityGroup;
  readonly cluster: rds.DatabaseCluster;
  readonly clusterIdentifier: string;
  readonly replicationGroup: elasticache.CfnReplicationGroup;
  readonly replicationGroupId: string;
  /** `DATABASE_URL` for the app (postgres://user:password@endpoint:5432/tapwave?sslmode=require). */
  readonly databaseUrl: secretsmanager.Secret;
  /** `REDIS_URL` for the app (rediss://:token@primary:6379). */
  readonly redisUrl: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: DataProps) {
    super(scope, id);
    const { vpc, key } = props;
    const isolated = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };

    this.dbSecurityGroup = new ec2.SecurityGroup(this, 'DbSg', {
      vpc,
      description: 'Aurora PostgreSQL: 5432 from the tapwave services only',
      allowAllOutbound: false,
    });
    this.redisSecurityGroup = new ec2.SecurityGroup(this, 'RedisSg', {
      vpc,
      description: 'ElastiCache Redis: 6379 from the tapwave services only',
      allowAllOutbound: false,
    });

    // ---------------------------------------------------------------- Aurora PostgreSQL
    this.clusterIdentifier = props.resourceName;
    // Pre-created so that its retention and encryption are ours (RDS would create it without either).
    new logs.LogGroup(this, 'DbLogs', {
      logGroupName: `/aws/rds/cluster/${this.clusterIdentifier}/postgresql`,
      retention: props.logRetention,
      encryptionKey: key,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const engine = rds.DatabaseClusterEngine.auroraPostgres({
      version: rds.AuroraPostgresEngineVersion.VER_17_9,
    });
    const parameterGroup = new rds.ParameterGroup(this, 'DbParams', {
      engine,
      description: 'tapwave: TLS only, log slow statements',
      parameters: {
        'rds.force_ssl': '1',
        log_min_duration_statement: '500',
      },
    });

    let masterSecret: secretsmanager.ISecret;
    let credentials: rds.Credentials;
    if (props.role === 'primary') {
      masterSecret = new secretsmanager.Secret(this, 'DbMaster', {
        secretName: masterSecretName(props.appName),
        description: 'Aurora master credentials (replicated to the secondary regions)',
        encryptionKey: key,
        generateSecretString: {
          secretStringTemplate: JSON.stringify({ username: DB_USER }),
          generateStringKey: 'password',
          // Only letters and digits: the password goes into a URL unescaped.
          excludePunctuation: true,
          passwordLength: 40,
        },
        replicaRegions: props.replicaRegions.map((region) => ({ region })),
      });
      credentials = rds.Credentials.fromSecret(masterSecret);
    } else {
      // The global cluster's users come from the primary; this secret is the primary's replica.
      masterSecret = secretsmanager.Secret.fromSecretNameV2(this, 'DbMaster', masterSecretName(props.appName));
      // Placeholder only: the properties are removed below, a secondary cluster takes no credentials.
      credentials = rds.Credentials.fromPassword(DB_USER, SecretValue.unsafePlainText('unused-in-secondary'));
    }

    const instanceProps: rds.ServerlessV2ClusterInstanceProps = {
      enablePerformanceInsights: true,
      performanceInsightEncryptionKey: key,
      autoMinorVersionUpgrade: true,
      publiclyAccessible: false,
    };
    this.cluster = new rds.DatabaseCluster(this, 'Aurora', {
      engine,
      clusterIdentifier: this.clusterIdentifier,
      credentials,
      defaultDatabaseName: props.role === 'primary' ? DB_NAME : undefined,
      writer: rds.ClusterInstance.serverlessV2('writer', instanceProps),
      // The first reader scales with the writer so that a failover lands on a warm instance.
      readers: Array.from({ length: props.db.readers }, (_, i) =>
        rds.ClusterInstance.serverlessV2(`reader${i + 1}`, { ...instanceProps, scaleWithWriter: i === 0 }),
      ),
      serverlessV2MinCapacity: props.db.minAcu,
      serverlessV2MaxCapacity: props.db.maxAcu,
      vpc,
      vpcSubnets: isolated,
      securityGroups: [this.dbSecurityGroup],
      port: DB_PORT,
      parameterGroup,
      storageEncrypted: true,
      storageEncryptionKey: key,
      backup: { retention: Duration.days(props.db.backupRetentionDays), preferredWindow: '01:00-02:00' },
      preferredMaintenanceWindow: 'tue:03:00-tue:04:00',
      deletionProtection: true,
      removalPolicy: RemovalPolicy.SNAPSHOT,
      iamAuthentication: true,
      cloudwatchLogsExports: ['postgresql'],
      monitoringInterval: Duration.seconds(60),
      copyTagsToSnapshot: true,
    });
    const cfnCluster = this.cluster.node.defaultChild as rds.CfnDBCluster;

    if (props.role === 'primary' && props.globalClusterIdentifier) {
      new rds.CfnGlobalCluster(this, 'Global', {
        globalClusterIdentifier: props.globalClusterIdentifier,
        sourceDbClusterIdentifier: this.cluster.clusterIdentifier,
        deletionProtection: true,
      });
    }
    if (props.role === 'secondary') {
      if (!props.globalClusterIdentifier) throw new Error('a secondary region needs the global cluster id');
      cfnCluster.addPropertyDeletionOverride('MasterUsername');
      cfnCluster.addPropertyDeletionOverride('MasterUserPassword');
      cfnCluster.addPropertyDeletionOverride('DatabaseName');
      cfnCluster.globalClusterIdentifier = props.globalClusterIdentifier;
      // Writes sent to this region's cluster are forwarded to the primary writer (one cross-region
      // round trip per write transaction); reads stay local.
      cfnCluster.enableGlobalWriteForwarding = true;
    }

    // DATABASE_URL, composed by CloudFormation from the master secret (dynamic references, so the
    // password never appears in the template). Rotation: docs/OPERATIONS.md.
    // In a secondary region the replica is referred to by name (its ARN suffix is not known here).
    const field = (jsonField: string) =>
      (props.role === 'primary'
        ? masterSecret.secretValueFromJson(jsonField)
        : SecretValue.secretsManager(masterSecretName(props.appName), { jsonField })
      ).unsafeUnwrap();
    const user = field('username');
    const password = field('password');
    this.databaseUrl = new secretsmanager.Secret(this, 'DatabaseUrl', {
      description: 'DATABASE_URL for tapwave (writer endpoint, TLS required)',
      encryptionKey: key,
      secretStringValue: SecretValue.unsafePlainText(
        Fn.join('', [
          'postgres://',
          user,
          ':',
          password,
          '@',
          // A secondary cluster's writer endpoint is inactive; its reader endpoint serves reads
          // locally and forwards writes (session consistency, the Aurora default).
          props.role === 'primary' ? this.cluster.clusterEndpoint.hostname : this.cluster.clusterReadEndpoint.hostname,
          `:${DB_PORT}/${DB_NAME}?sslmode=require`,
        ]),
      ),
    });

    // ---------------------------------------------------------------- ElastiCache for Redis
    this.replicationGroupId = props.resourceName;
    const subnets = new elasticache.CfnSubnetGroup(this, 'RedisSubnets', {
      description: 'tapwave Redis: isolated subnets',
      subnetIds: vpc.selectSubnets(isolated).subnetIds,
    });
    const authToken = new secretsmanager.Secret(this, 'RedisAuth', {
      description: 'ElastiCache AUTH token',
      encryptionKey: key,
      generateSecretString: { excludePunctuation: true, passwordLength: 64 },
    });
    const slowLog = new logs.LogGroup(this, 'RedisSlowLog', {
      retention: props.logRetention,
      encryptionKey: key,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.replicationGroup = new elasticache.CfnReplicationGroup(this, 'Redis', {
      replicationGroupId: this.replicationGroupId,
      replicationGroupDescription: 'tapwave hot state: rate limits, sessions, leaderboards, tap batches',
      engine: 'redis',
      engineVersion: props.redis.engineVersion,
      cacheNodeType: props.redis.nodeType,
      // Cluster mode off: one shard, so the multi-key Lua scripts need no hash tags.
      numNodeGroups: 1,
      replicasPerNodeGroup: props.redis.replicas,
      multiAzEnabled: true,
      automaticFailoverEnabled: true,
      transitEncryptionEnabled: true,
      atRestEncryptionEnabled: true,
      kmsKeyId: key.keyArn,
      authToken: authToken.secretValue.unsafeUnwrap(),
      port: REDIS_PORT,
      cacheSubnetGroupName: subnets.ref,
      securityGroupIds: [this.redisSecurityGroup.securityGroupId],
      snapshotRetentionLimit: 7,
      snapshotWindow: '00:00-01:00',
      preferredMaintenanceWindow: 'wed:03:00-wed:04:00',
      autoMinorVersionUpgrade: true,
      logDeliveryConfigurations: [
        {
          destinationType: 'cloudwatch-logs',
          logFormat: 'json',
          logType: 'slow-log',
          destinationDetails: { cloudWatchLogsDetails: { logGroup: slowLog.logGroupName } },
        },
      ],
    });

    this.redisUrl = new secretsmanager.Secret(this, 'RedisUrl', {
      description: 'REDIS_URL for tapwave (primary endpoint, TLS)',
      encryptionKey: key,
      secretStringValue: SecretValue.unsafePlainText(
        Fn.join('', [
          'rediss://:',
          authToken.secretValue.unsafeUnwrap(),
          '@',
          this.replicationGroup.attrPrimaryEndPointAddress,
          ':',
          this.replicationGroup.attrPrimaryEndPointPort,
        ]),
      ),
    });
  }

  /** Admits a service's security group to the database and to Redis. */
  allowFrom(peer: ec2.ISecurityGroup, description: string): void {
    this.dbSecurityGroup.addIngressRule(peer, ec2.Port.tcp(DB_PORT), `${description} to Aurora`);
    this.redisSecurityGroup.addIngressRule(peer, ec2.Port.tcp(REDIS_PORT), `${description} to Redis`);
  }

  /** Node ids of the replication group (cluster mode disabled: <id>-001, -002, ...). */
  redisNodeIds(replicas: number): string[] {
    return Array.from({ length: replicas + 1 }, (_, i) => `${this.replicationGroupId}-${String(i + 1).padStart(3, '0')}`);
  }

  /** Highest memory use across the Redis nodes, in percent. */
  redisMemoryPercent(replicas: number): cloudwatch.IMetric {
    const metrics: Record<string, cloudwatch.IMetric> = {};
    this.redisNodeIds(replicas).forEach((node, i) => {
      metrics[`m${i}`] = new cloudwatch.Metric({
        namespace: 'AWS/ElastiCache',
        metricName: 'DatabaseMemoryUsagePercentage',
        dimensionsMap: { CacheClusterId: node },
        statistic: 'Maximum',
        period: Duration.minutes(1),
        region: Stack.of(this).region,
      });
    });
    return new cloudwatch.MathExpression({
      expression: `MAX([${Object.keys(metrics).join(',')}])`,
      usingMetrics: metrics,
      label: 'Redis memory used (max over nodes, %)',
      period: Duration.minutes(1),
    });
  }
}
