// One region of tapwave. The primary region's stack also holds the edge (S3 + CloudFront), the
// Aurora writer and the shared secrets; a secondary region's stack joins them (docs/MULTI-REGION.md).

import { Aspects, CfnOutput, Duration, RemovalPolicy, SecretValue, Stack, StackProps } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as targets from 'aws-cdk-lib/aws-route53-targets';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import * as path from 'path';
import { SkipCdkManagedFunctions, skipChecks } from './checkov';
import { ROUTES, TapwaveConfig, prefixListFor, regionShort } from './config';
import { Data } from './data';
import { Edge } from './edge';
import { Monitoring } from './monitoring';
import { Network } from './network';
import { Services } from './services';

export interface TapwaveStackProps extends StackProps {
  config: TapwaveConfig;
  role: 'primary' | 'secondary';
}

/** Name of the secret holding CloudFront's origin header value (replicated to every region). */
export function originVerifySecretName(appName: string): string {
  return `${appName}/edge/origin-verify`;
}

export class TapwaveStack extends Stack {
  readonly config: TapwaveConfig;
  readonly key: kms.Key;
  readonly network: Network;
  readonly data: Data;
  readonly services: Services;
  readonly monitoring: Monitoring;
  readonly edge?: Edge;
  readonly logBucket: s3.Bucket;
  readonly warehouseBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: TapwaveStackProps) {
    super(scope, id, props);
    const cfg = (this.config = props.config);
    const role = props.role;
    const region = this.region;
    const logRetention = retentionDays(cfg.logRetentionDays);

    // ------------------------------------------------------------------ encryption key
    this.key = new kms.Key(this, 'DataKey', {
      description: `${cfg.appName} data at rest in ${region}: Aurora, Redis, secrets, logs, warehouse`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchLogs',
        principals: [new iam.ServicePrincipal(`logs.${region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${this.partition}:logs:${region}:${this.account}:*` },
        },
      }),
    );
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsToEncryptedTopic',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );

    // ------------------------------------------------------------------ buckets
    this.logBucket = new s3.Bucket(this, 'Logs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      // CloudFront standard logs are delivered with ACLs.
      objectOwnership: s3.ObjectOwnership.OBJECT_WRITER,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    skipChecks(this.logBucket, 'CKV_AWS_18_LOGS', 'CKV_AWS_21_LOGS');

    this.warehouseBucket = new s3.Bucket(this, 'Warehouse', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.logBucket,
      serverAccessLogsPrefix: 's3/warehouse/',
      lifecycleRules: [
        {
          transitions: [{ storageClass: s3.StorageClass.INTELLIGENT_TIERING, transitionAfter: Duration.days(30) }],
          noncurrentVersionExpiration: Duration.days(30),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // ------------------------------------------------------------------ network and data
    this.network = new Network(this, 'Network', {
      cidr: cfg.vpcCidrs[region],
      availabilityZones: cfg.availabilityZones[region],
      natGateways: cfg.natGateways,
      logRetention,
      logKey: this.key,
    });
    const globalClusterIdentifier = cfg.secondaryRegions.length > 0 ? `${cfg.appName}-global` : undefined;
    this.data = new Data(this, 'Data', {
      appName: cfg.appName,
      vpc: this.network.vpc,
      key: this.key,
      logRetention,
      resourceName: `${cfg.appName}-${regionShort(region)}`,
      role,
      replicaRegions: role === 'primary' ? cfg.secondaryRegions : [],
      globalClusterIdentifier,
      db: cfg.db,
      redis: cfg.redis,
    });

    // ------------------------------------------------------------------ shared origin secret
    // CloudFront sends this value in a header; the ALBs forward only requests that carry it, so the
    // prefix list (any CloudFront distribution) is narrowed to ours.
    let originVerifyValue: string;
    if (role === 'primary') {
      const originVerify = new secretsmanager.Secret(this, 'OriginVerify', {
        secretName: originVerifySecretName(cfg.appName),
        description: 'Value of the origin header CloudFront adds for the ALBs',
        encryptionKey: this.key,
        generateSecretString: { excludePunctuation: true, passwordLength: 48 },
        replicaRegions: cfg.secondaryRegions.map((r) => ({ region: r })),
      });
      originVerifyValue = originVerify.secretValue.unsafeUnwrap();
    } else {
      originVerifyValue = SecretValue.secretsManager(originVerifySecretName(cfg.appName)).unsafeUnwrap();
    }

    // ------------------------------------------------------------------ DNS and certificates
    const zone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', {
      hostedZoneId: cfg.hostedZoneId,
      zoneName: cfg.hostedZoneName,
    });
    const originCertificate = new acm.Certificate(this, 'OriginCertificate', {
      domainName: cfg.originDomainName,
      validation: acm.CertificateValidation.fromDns(zone),
    });

    if (role === 'primary') {
      this.edge = new Edge(this, 'Edge', {
        config: cfg,
        zone,
        logBucket: this.logBucket,
        originVerifyValue,
        logRetention,
        logKey: this.key,
        staticDir: path.resolve(__dirname, '..', cfg.staticDir),
      });
    }
    const webAppUrl = this.edge ? this.edge.url : `https://${cfg.domainName}`;

    // ------------------------------------------------------------------ services
    this.services = new Services(this, 'Services', {
      config: cfg,
      role,
      vpc: this.network.vpc,
      key: this.key,
      data: this.data,
      logRetention,
      logBucket: this.logBucket,
      warehouseBucket: this.warehouseBucket,
      certificate: originCertificate,
      cloudFrontPrefixListId: prefixListFor(cfg, region),
      originVerifyValue,
      webAppUrl,
    });

    // One latency record per region under the same name: CloudFront resolves it from the edge and
    // reaches the nearest region whose ALB has healthy targets.
    new route53.ARecord(this, 'OriginRecord', {
      zone,
      recordName: cfg.originDomainName,
      target: route53.RecordTarget.fromAlias(
        new targets.LoadBalancerTarget(this.services.alb, { evaluateTargetHealth: true }),
      ),
      region,
      setIdentifier: region,
    });

    this.monitoring = new Monitoring(this, 'Monitoring', {
      config: cfg,
      key: this.key,
      services: this.services,
      data: this.data,
    });

    Aspects.of(this).add(new SkipCdkManagedFunctions());

    new CfnOutput(this, 'WebAppUrl', { value: webAppUrl, description: 'WEBAPP_URL: set it as the bot Mini App URL in @BotFather' });
    new CfnOutput(this, 'WebhookUrl', { value: `${webAppUrl}${ROUTES.webhook}` });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn });
    if (this.edge) {
      new CfnOutput(this, 'DistributionId', { value: this.edge.distribution.distributionId });
    }
  }
}

function retentionDays(days: number): logs.RetentionDays {
  const allowed = Object.values(logs.RetentionDays).filter((v): v is number => typeof v === 'number');
  if (!allowed.includes(days)) throw new Error(`logRetentionDays: ${days} is not a CloudWatch Logs retention`);
  return days as logs.RetentionDays;
}
