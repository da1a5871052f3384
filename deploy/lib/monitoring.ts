// Alarms and the dashboard of one region. Every alarm notifies the region's SNS topic; what to do
// about each one is in docs/OPERATIONS.md under the alarm's name.

import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { TapwaveConfig } from './config';
import { Data } from './data';
import { appMetric } from './metrics';
import { Services } from './services';

export interface MonitoringProps {
  config: TapwaveConfig;
  key: kms.IKey;
  services: Services;
  data: Data;
}

/** Alarm names (suffixes); docs/OPERATIONS.md has one section per name. */
export const ALARMS = [
  'Api5xxRate',
  'ApiP99Latency',
  'ApiUnhealthyTargets',
  'ApiCpuHigh',
  'WorkerCpuHigh',
  'DbCpuHigh',
  'DbConnections',
  'RedisMemory',
  'WorkerFlushLag',
  'ClaimsPending',
] as const;

export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: Record<(typeof ALARMS)[number], cloudwatch.Alarm>;
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { config: cfg, services, data } = props;
    const prefix = `${cfg.appName}-${Stack.of(this).region}`;
    const minute = Duration.minutes(1);

    this.topic = new sns.Topic(this, 'Alarms', { displayName: `${prefix} alarms`, masterKey: props.key });
    if (cfg.alarmEmail) this.topic.addSubscription(new subs.EmailSubscription(cfg.alarmEmail));
    const notify = new actions.SnsAction(this.topic);

    const alb = services.alb.metrics;
    const tg = services.apiTargetGroup.metrics;

    const requests = alb.requestCount({ period: minute, statistic: 'Sum' });
    const errorRate = new cloudwatch.MathExpression({
      expression: '100 * (t5 + e5) / MAX([req, 1])',
      usingMetrics: {
        t5: alb.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period: minute, statistic: 'Sum' }),
        e5: alb.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period: minute, statistic: 'Sum' }),
        req: requests,
      },
      label: '5xx responses (% of requests)',
      period: minute,
    });
    const p99 = tg.targetResponseTime({ period: minute, statistic: 'p99' });
    const tapsPerSecond = new cloudwatch.MathExpression({
      expression: 'taps / 60',
      usingMetrics: { taps: appMetric('api', 'taps_accepted_total', 'Sum') },
      label: 'taps accepted per second',
      period: minute,
    });
    const batchesPerSecond = new cloudwatch.MathExpression({
      expression: 'b / 60',
      usingMetrics: { b: appMetric('api', 'tap_batches_total', 'Sum') },
      label: 'tap batches per second',
      period: minute,
    });
    const flushLag = appMetric('worker', 'worker_flush_lag_seconds', 'Maximum');
    const claimsPending = appMetric('worker', 'claims_pending', 'Maximum');
    const dbConnections = data.cluster.metricDatabaseConnections({ period: minute, statistic: 'Maximum' });
    const dbCpu = data.cluster.metricCPUUtilization({ period: minute, statistic: 'Maximum' });
    const redisMemory = data.redisMemoryPercent(cfg.redis.replicas);

    const alarm = (
      name: (typeof ALARMS)[number],
      metric: cloudwatch.IMetric,
      threshold: number,
      description: string,
      evaluationPeriods = 5,
      datapointsToAlarm = 3,
      treatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING,
    ) => {
      const a = new cloudwatch.Alarm(this, name, {
        alarmName: `${prefix}-${name}`,
        alarmDescription: `${description} Runbook: docs/OPERATIONS.md#${name.toLowerCase()}`,
        metric,
        threshold,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods,
        datapointsToAlarm,
        treatMissingData,
      });
      a.addAlarmAction(notify);
      a.addOkAction(notify);
      return a;
    };

    const a = cfg.alarms;
    this.alarms = {
      Api5xxRate: alarm('Api5xxRate', errorRate, a.http5xxPercent, `More than ${a.http5xxPercent}% of requests answered 5xx.`),
      ApiP99Latency: alarm('ApiP99Latency', p99, a.p99LatencySeconds, `API p99 latency above ${a.p99LatencySeconds}s.`),
      ApiUnhealthyTargets: alarm(
        'ApiUnhealthyTargets',
        tg.unhealthyHostCount({ period: minute, statistic: 'Maximum' }),
        0,
        'An api task fails /readyz (database or Redis unreachable from it).',
      ),
      ApiCpuHigh: alarm('ApiCpuHigh', services.cpuMetric('api'), a.cpuPercent, 'api CPU stays high: autoscaling is at its maximum or too slow.', 10, 8),
      WorkerCpuHigh: alarm('WorkerCpuHigh', services.cpuMetric('worker'), a.cpuPercent, 'worker CPU stays high.', 10, 8),
      DbCpuHigh: alarm('DbCpuHigh', dbCpu, a.cpuPercent, 'Aurora CPU stays high: at the ACU ceiling?', 10, 8),
      DbConnections: alarm('DbConnections', dbConnections, cfg.db.connectionsAlarm, 'Aurora connections near the limit.'),
      RedisMemory: alarm('RedisMemory', redisMemory, a.redisMemoryPercent, 'Redis memory use high: evictions would lose hot state.'),
      WorkerFlushLag: alarm(
        'WorkerFlushLag',
        flushLag,
        a.flushLagSeconds,
        'Taps accepted in Redis wait too long to reach Aurora.',
      ),
      ClaimsPending: alarm(
        'ClaimsPending',
        claimsPending,
        a.claimsPending,
        'Claims pile up unpaid.',
        15,
        15,
      ),
    };

    const w = (title: string, left: cloudwatch.IMetric[], right?: cloudwatch.IMetric[]) =>
      new cloudwatch.GraphWidget({ title, left, right, width: 8, height: 6 });
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: prefix,
      defaultInterval: Duration.hours(3),
      widgets: [
        [
          w('Players: taps and batches per second', [tapsPerSecond], [batchesPerSecond]),
          w('Requests and 5xx rate', [requests], [errorRate]),
          w('API latency (s)', [
            tg.targetResponseTime({ period: minute, statistic: 'p50' }),
            p99,
          ]),
        ],
        [
          w('Tasks running', [
            services.runningTasksMetric('api'),
            services.runningTasksMetric('worker'),
            services.runningTasksMetric('bot'),
          ]),
          w('CPU (%)', [services.cpuMetric('api'), services.cpuMetric('worker'), services.cpuMetric('bot')]),
          w('Write-behind and claims', [flushLag], [claimsPending]),
        ],
        [
          w('Aurora', [dbConnections], [dbCpu, data.cluster.metricServerlessDatabaseCapacity({ period: minute, statistic: 'Maximum' })]),
          w('Redis memory (%)', [redisMemory]),
          new cloudwatch.AlarmStatusWidget({
            title: 'Alarms',
            alarms: Object.values(this.alarms),
            width: 8,
            height: 6,
          }),
        ],
      ],
    });
  }
}
