// Compute tier: one ECS Fargate cluster running the one tapwave image as three services and a task:
//
//   api     `tapwave api`     behind the ALB (/api/*), autoscaled on CPU and on requests per target
//   bot     `tapwave bot`     behind the ALB (/telegram/webhook), webhook mode
//   worker  `tapwave worker`  no load balancer, autoscaled on CPU and on its flush backlog
//   migrate `tapwave migrate` task definition only, run once per release (docs/OPERATIONS.md)
//
// The ALB listens on HTTPS only, only to CloudFront's origin-facing addresses, and forwards only
// requests that carry CloudFront's secret origin header; anything else gets a 404.

import { CfnOutput, Duration, RemovalPolicy, SecretValue, Size, Stack } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { APP_PORT, ORIGIN_VERIFY_HEADER, ROUTES, TaskSize, TapwaveConfig, apiRequestsPerTargetPerMinute } from './config';
import { Data } from './data';
import { appMetric, cloudWatchAgentConfig, prometheusScrapeConfig } from './metrics';

export type ServiceName = 'api' | 'bot' | 'worker';

/** Name of the webhook secret in the primary region (replicated to the secondaries). */
export function webhookSecretName(appName: string): string {
  return `${appName}/bot/webhook-secret`;
}

export interface ServicesProps {
  config: TapwaveConfig;
  role: 'primary' | 'secondary';
  vpc: ec2.IVpc;
  key: kms.IKey;
  data: Data;
  logRetention: logs.RetentionDays;
  logBucket: s3.IBucket;
  warehouseBucket: s3.IBucket;
  certificate: acm.ICertificate;
  cloudFrontPrefixListId: string;
  /** Value of the origin header CloudFront adds (a dynamic reference to the shared secret). */
  originVerifyValue: string;
  /** Public URL of the Mini App (WEBAPP_URL). */
  webAppUrl: string;
}

interface ServiceSpec {
  name: ServiceName;
  size: TaskSize & { dbConnections: number };
  /** Seconds ECS waits after SIGTERM before SIGKILL (max 120 on Fargate). */
  stopTimeout: number;
  environment: Record<string, string>;
}

export class Services extends Construct {
  readonly cluster: ecs.Cluster;
  readonly alb: elbv2.ApplicationLoadBalancer;
  readonly albSecurityGroup: ec2.SecurityGroup;
  readonly listener: elbv2.ApplicationListener;
  readonly apiTargetGroup: elbv2.ApplicationTargetGroup;
  readonly botTargetGroup: elbv2.ApplicationTargetGroup;
  readonly services: Record<ServiceName, ecs.FargateService>;
  readonly securityGroups: Record<ServiceName, ec2.SecurityGroup>;
  readonly apiScaling: ecs.ScalableTaskCount;
  readonly workerScaling: ecs.ScalableTaskCount;
  readonly migrateTask: ecs.FargateTaskDefinition;
  readonly botToken: secretsmanager.Secret;
  readonly webhookSecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: ServicesProps) {
    super(scope, id);
    const { config: cfg, vpc, key, data } = props;
    const region = Stack.of(this).region;
    const secondary = props.role === 'secondary';
    const privateSubnets = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };

    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc,
      containerInsightsV2: ecs.ContainerInsights.ENHANCED,
      enableFargateCapacityProviders: true,
    });

    // ------------------------------------------------------------------ secrets
    this.botToken = new secretsmanager.Secret(this, 'BotToken', {
      description: 'BOT_TOKEN from @BotFather: set it with put-secret-value after the first deploy',
      encryptionKey: key,
      // Not a secret: a placeholder in the shape the binary accepts at start (digits:letters), so that
      // api and worker run until the operator stores the real token (docs/OPERATIONS.md, first
      // deploy). The bot itself is deployed with -c botTasks=0 until then.
      secretStringValue: SecretValue.unsafePlainText('0:placeholder-put-the-BotFather-token-here'),
    });
    // Telegram keeps one webhook secret for the bot, so every region must use the same value: the
    // primary generates it (1-256 chars of [A-Za-z0-9_-], as Telegram requires) and replicates it;
    // a secondary copies the replica into its own secret at deploy time (ECS needs a full ARN).
    this.webhookSecret = new secretsmanager.Secret(this, 'WebhookSecret', {
      secretName: secondary ? undefined : webhookSecretName(cfg.appName),
      description: 'WEBHOOK_SECRET: Telegram echoes it in X-Telegram-Bot-Api-Secret-Token',
      encryptionKey: key,
      ...(secondary
        ? { secretStringValue: SecretValue.secretsManager(webhookSecretName(cfg.appName)) }
        : {
            generateSecretString: { excludePunctuation: true, passwordLength: 64 },
            replicaRegions: cfg.secondaryRegions.map((r) => ({ region: r })),
          }),
    });

    const secrets: Record<string, ecs.Secret> = {
      DATABASE_URL: ecs.Secret.fromSecretsManager(data.databaseUrl),
      REDIS_URL: ecs.Secret.fromSecretsManager(data.redisUrl),
      BOT_TOKEN: ecs.Secret.fromSecretsManager(this.botToken),
    };

    // ------------------------------------------------------------------ common task settings
    const repository = ecr.Repository.fromRepositoryName(this, 'Repository', cfg.repositoryName);
    const image = ecs.ContainerImage.fromEcrRepository(repository, cfg.imageTag ?? 'unset');
    const cpuArchitecture =
      cfg.cpuArchitecture === 'ARM64' ? ecs.CpuArchitecture.ARM64 : ecs.CpuArchitecture.X86_64;

    const promLogGroup = new logs.LogGroup(this, 'PrometheusLogs', {
      retention: props.logRetention,
      encryptionKey: key,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const baseEnv: Record<string, string> = {
      BIND: `0.0.0.0:${APP_PORT}`,
      LOG_FORMAT: 'json',
      // CloudFront + ALB: the client address is the second entry from the right of X-Forwarded-For.
      TRUSTED_PROXIES: '2',
      WEBAPP_URL: props.webAppUrl,
      ADMIN_IDS: cfg.adminIds,
      REDIS_KEY_PREFIX: `${cfg.appName}:`,
      RUST_LOG: 'info',
    };

    const specs: ServiceSpec[] = [
      { name: 'api', size: cfg.api, stopTimeout: 30, environment: {} },
      {
        name: 'bot',
        size: cfg.bot,
        stopTimeout: 30,
        environment: { WEBHOOK_URL: `${props.webAppUrl}${ROUTES.webhook}` },
      },
      {
        name: 'worker',
        size: cfg.worker,
        // The worker finishes the job in hand (a payout round, a broadcast slice) on SIGTERM:
        // give it the Fargate maximum.
        stopTimeout: 120,
        // Payout batch files go to the warehouse bucket, signed with the task role's keys.
        environment: {
          WAREHOUSE_URL: `s3://${props.warehouseBucket.bucketName}/events`,
          AWS_REGION: Stack.of(this).region,
        },
      },
    ];

    const logGroups: Partial<Record<ServiceName, logs.LogGroup>> = {};
    const taskDefs: Partial<Record<ServiceName, ecs.FargateTaskDefinition>> = {};
    for (const spec of specs) {
      const logGroup = new logs.LogGroup(this, `${spec.name}Logs`, {
        retention: props.logRetention,
        encryptionKey: key,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      logGroups[spec.name] = logGroup;
      const td = new ecs.FargateTaskDefinition(this, `${spec.name}Task`, {
        cpu: spec.size.cpu,
        memoryLimitMiB: spec.size.memoryMiB,
        runtimePlatform: { cpuArchitecture, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
      });
      taskDefs[spec.name] = td;
      td.addContainer('app', {
        image,
        command: [spec.name],
        essential: true,
        user: '65532:65532',
        readonlyRootFilesystem: true,
        portMappings: [{ containerPort: APP_PORT, name: 'http' }],
        environment: { ...baseEnv, DB_MAX_CONNECTIONS: String(spec.size.dbConnections), ...spec.environment },
        secrets:
          spec.name === 'bot'
            ? { ...secrets, WEBHOOK_SECRET: ecs.Secret.fromSecretsManager(this.webhookSecret) }
            : secrets,
        stopTimeout: Duration.seconds(spec.stopTimeout),
        logging: ecs.LogDrivers.awsLogs({
          logGroup,
          streamPrefix: spec.name,
          mode: ecs.AwsLogDriverMode.NON_BLOCKING,
          maxBufferSize: Size.mebibytes(25),
        }),
      });

      // Sidecar: the CloudWatch agent scrapes this task's /metrics every 30 s and writes the selected
      // series as Embedded Metric Format to CloudWatch Logs, which turns them into metrics in the
      // `Tapwave` namespace with a `Service` dimension. See lib/metrics.ts for why.
      td.addContainer('cwagent', {
        image: ecs.ContainerImage.fromRegistry(cfg.cloudWatchAgentImage),
        essential: false,
        cpu: 64,
        memoryReservationMiB: 128,
        environment: {
          CW_CONFIG_CONTENT: JSON.stringify(cloudWatchAgentConfig(promLogGroup.logGroupName)),
          PROMETHEUS_CONFIG_CONTENT: prometheusScrapeConfig(spec.name, APP_PORT),
        },
        logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: 'cwagent' }),
      });
      promLogGroup.grantWrite(td.taskRole);
      td.addToTaskRolePolicy(
        new iam.PolicyStatement({
          actions: ['logs:DescribeLogStreams', 'logs:DescribeLogGroups'],
          resources: [promLogGroup.logGroupArn],
        }),
      );
    }
    props.warehouseBucket.grantReadWrite(taskDefs.worker!.taskRole);

    // ------------------------------------------------------------------ security groups
    const sg = (name: ServiceName) =>
      new ec2.SecurityGroup(this, `${name}Sg`, {
        vpc,
        description: `tapwave ${name} tasks`,
        // Outbound: Telegram Bot API, TON, ECR, Secrets Manager, CloudWatch over NAT; Aurora, Redis.
        allowAllOutbound: true,
      });
    this.securityGroups = { api: sg('api'), bot: sg('bot'), worker: sg('worker') };
    for (const name of ['api', 'bot', 'worker'] as const) {
      data.allowFrom(this.securityGroups[name], `tapwave ${name}`);
    }

    // ------------------------------------------------------------------ services
    const service = (name: ServiceName, desiredCount: number | undefined) => {
      const svc = new ecs.FargateService(this, `${name}Service`, {
        cluster: this.cluster,
        serviceName: name,
        taskDefinition: taskDefs[name]!,
        // Autoscaled services leave desiredCount to Application Auto Scaling (a deploy must not
        // reset it); the minimum comes from the scalable target.
        desiredCount,
        minHealthyPercent: 100,
        maxHealthyPercent: 200,
        circuitBreaker: { enable: true, rollback: true },
        vpcSubnets: privateSubnets,
        securityGroups: [this.securityGroups[name]],
        assignPublicIp: false,
        propagateTags: ecs.PropagatedTagSource.SERVICE,
        healthCheckGracePeriod: name === 'worker' ? undefined : Duration.seconds(60),
      });
      // Keep tasks spread over the AZs after an AZ outage ends.
      (svc.node.defaultChild as ecs.CfnService).availabilityZoneRebalancing = 'ENABLED';
      return svc;
    };
    this.services = {
      api: service('api', undefined),
      bot: service('bot', secondary ? cfg.secondary.botTasks : cfg.bot.tasks),
      worker: service('worker', undefined),
    };

    // ------------------------------------------------------------------ load balancer
    this.albSecurityGroup = new ec2.SecurityGroup(this, 'AlbSg', {
      vpc,
      description: 'tapwave ALB: HTTPS from CloudFront origin-facing addresses only',
      allowAllOutbound: false,
    });
    this.albSecurityGroup.addIngressRule(
      ec2.Peer.prefixList(props.cloudFrontPrefixListId),
      ec2.Port.tcp(443),
      'HTTPS from CloudFront (com.amazonaws.global.cloudfront.origin-facing)',
    );

    this.alb = new elbv2.ApplicationLoadBalancer(this, 'Alb', {
      vpc,
      internetFacing: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      securityGroup: this.albSecurityGroup,
      dropInvalidHeaderFields: true,
      deletionProtection: true,
      http2Enabled: true,
      idleTimeout: Duration.seconds(60),
    });
    this.alb.logAccessLogs(props.logBucket, `alb/${region}`);

    this.listener = this.alb.addListener('Https', {
      port: 443,
      protocol: elbv2.ApplicationProtocol.HTTPS,
      certificates: [props.certificate],
      sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
      // No 0.0.0.0/0 rule: the security group above admits CloudFront only.
      open: false,
      defaultAction: elbv2.ListenerAction.fixedResponse(404, {
        contentType: 'application/json',
        messageBody: '{"error":{"code":"not_found","message":"There is nothing here."}}',
      }),
    });

    const targetGroup = (name: ServiceName) =>
      new elbv2.ApplicationTargetGroup(this, `${name}Targets`, {
        vpc,
        port: APP_PORT,
        protocol: elbv2.ApplicationProtocol.HTTP,
        targetType: elbv2.TargetType.IP,
        targets: [this.services[name]],
        healthCheck: {
          path: '/readyz',
          port: String(APP_PORT),
          healthyHttpCodes: '200',
          interval: Duration.seconds(15),
          timeout: Duration.seconds(5),
          healthyThresholdCount: 2,
          unhealthyThresholdCount: 3,
        },
        // Long enough for in-flight requests to finish after SIGTERM (the app drains, then exits).
        deregistrationDelay: Duration.seconds(30),
      });
    this.apiTargetGroup = targetGroup('api');
    this.botTargetGroup = targetGroup('bot');

    const fromCloudFront = elbv2.ListenerCondition.httpHeader(ORIGIN_VERIFY_HEADER, [props.originVerifyValue]);
    this.listener.addAction('Webhook', {
      priority: 10,
      conditions: [elbv2.ListenerCondition.pathPatterns([ROUTES.webhook]), fromCloudFront],
      action: elbv2.ListenerAction.forward([this.botTargetGroup]),
    });
    this.listener.addAction('Api', {
      priority: 20,
      conditions: [elbv2.ListenerCondition.pathPatterns([ROUTES.api]), fromCloudFront],
      action: elbv2.ListenerAction.forward([this.apiTargetGroup]),
    });

    // ------------------------------------------------------------------ autoscaling
    // api: two target-tracking policies; the one that asks for more tasks wins.
    //  - CPU: the app is CPU-bound at its benchmark limit (JSON, HMAC checks, Redis round trips).
    //  - Requests per target: apiRequestsPerTargetPerMinute() = BENCH.tapBatchesPerSecPerTask x
    //    (1 + other calls) x 60 s x TARGET_UTILISATION, i.e. half of what one task sustained in
    //    bench/RESULTS.md. It reacts to a spike of players before CPU averages catch up.
    this.apiScaling = this.services.api.autoScaleTaskCount({
      minCapacity: secondary ? cfg.secondary.apiMinTasks : cfg.api.minTasks,
      maxCapacity: cfg.api.maxTasks,
    });
    this.apiScaling.scaleOnCpuUtilization('Cpu', {
      targetUtilizationPercent: cfg.api.cpuTarget,
      scaleOutCooldown: Duration.seconds(60),
      scaleInCooldown: Duration.seconds(300),
    });
    this.apiScaling.scaleOnRequestCount('Requests', {
      requestsPerTarget: apiRequestsPerTargetPerMinute(),
      targetGroup: this.apiTargetGroup,
      scaleOutCooldown: Duration.seconds(60),
      scaleInCooldown: Duration.seconds(300),
    });

    // worker: CPU, plus steps on the write-behind backlog (seconds the oldest unflushed tap batch
    // has waited). Workers share the Redis stream through a consumer group, so more workers drain
    // it faster.
    this.workerScaling = this.services.worker.autoScaleTaskCount({
      minCapacity: secondary ? cfg.secondary.workerMinTasks : cfg.worker.minTasks,
      maxCapacity: cfg.worker.maxTasks,
    });
    this.workerScaling.scaleOnCpuUtilization('Cpu', {
      targetUtilizationPercent: cfg.worker.cpuTarget,
      scaleOutCooldown: Duration.seconds(60),
      scaleInCooldown: Duration.seconds(300),
    });
    this.workerScaling.scaleOnMetric('FlushBacklog', {
      metric: appMetric('worker', 'worker_flush_lag_seconds', 'Maximum'),
      adjustmentType: appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
      scalingSteps: [
        { upper: 2, change: -1 },
        { lower: 5, change: +1 },
        { lower: 30, change: +3 },
      ],
      cooldown: Duration.seconds(120),
      evaluationPeriods: 2,
    });

    // ------------------------------------------------------------------ migrate (one-off task)
    this.migrateTask = new ecs.FargateTaskDefinition(this, 'migrateTask', {
      cpu: 256,
      memoryLimitMiB: 512,
      runtimePlatform: { cpuArchitecture, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });
    this.migrateTask.addContainer('app', {
      image,
      command: ['migrate'],
      essential: true,
      user: '65532:65532',
      readonlyRootFilesystem: true,
      environment: { LOG_FORMAT: 'json', RUST_LOG: 'info', DB_MAX_CONNECTIONS: '2' },
      secrets: { DATABASE_URL: ecs.Secret.fromSecretsManager(data.databaseUrl) },
      logging: ecs.LogDrivers.awsLogs({ logGroup: logGroups.worker!, streamPrefix: 'migrate' }),
    });

    const subnetIds = vpc.selectSubnets(privateSubnets).subnetIds;
    new CfnOutput(this, 'RunMigrations', {
      description: 'Apply migrations as a one-off task (the migrate task uses the worker security group)',
      value: [
        `aws ecs run-task --region ${region} --cluster ${this.cluster.clusterName}`,
        `--task-definition ${this.migrateTask.family} --launch-type FARGATE`,
        `--network-configuration "awsvpcConfiguration={subnets=[${subnetIds.join(',')}],securityGroups=[${this.securityGroups.worker.securityGroupId}],assignPublicIp=DISABLED}"`,
      ].join(' '),
    });
    new CfnOutput(this, 'ClusterName', { value: this.cluster.clusterName });
    new CfnOutput(this, 'BotTokenSecretArn', { value: this.botToken.secretArn });
  }

  /** Tasks running in a service (Container Insights). */
  runningTasksMetric(name: ServiceName): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'ECS/ContainerInsights',
      metricName: 'RunningTaskCount',
      dimensionsMap: { ClusterName: this.cluster.clusterName, ServiceName: this.services[name].serviceName },
      statistic: 'Average',
      period: Duration.minutes(1),
      label: name,
    });
  }

  /** Average CPU of a service, in percent. */
  cpuMetric(name: ServiceName): cloudwatch.Metric {
    return this.services[name].metricCpuUtilization({ period: Duration.minutes(1), statistic: 'Average' });
  }
}

