// How the application's own figures reach CloudWatch.
//
// Choice: the CloudWatch agent as a sidecar in each task, scraping the app's Prometheus `/metrics`
// on localhost, rather than Embedded Metric Format lines written by the app itself. Why:
//  - the app keeps one metrics surface, Prometheus text, which also serves a laptop, docker compose,
//    or any other cloud; no AWS-specific code or dependency in the Rust binary;
//  - metric selection, dimensions and namespace are deployment configuration (below), changed
//    without a release;
//  - the agent writes EMF itself, so the result is the same as app-written EMF: metrics in the
//    `Tapwave` namespace plus the raw scrape in a log group for Logs Insights;
//  - the cost is a small sidecar (64 CPU units, 128 MiB reserved) per task.
// Caveats: the agent turns counters into per-scrape deltas (sum them per minute) and drops
// histograms, so latency percentiles come from the ALB's TargetResponseTime instead.

import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

export const METRICS_NAMESPACE = 'Tapwave';

/** Which series of which service become CloudWatch metrics (regular expressions on the metric name). */
export const EXPORTED_METRICS: Record<string, string[]> = {
  api: ['taps_accepted_total', 'tap_batches_total', 'http_requests_total'],
  bot: ['http_requests_total'],
  worker: ['worker_flush_lag_seconds', 'claims_pending'],
};

export function prometheusScrapeConfig(service: string, port: number): string {
  return [
    'global:',
    '  scrape_interval: 30s',
    '  scrape_timeout: 10s',
    'scrape_configs:',
    `  - job_name: tapwave-${service}`,
    '    metrics_path: /metrics',
    '    sample_limit: 10000',
    '    static_configs:',
    `      - targets: ['localhost:${port}']`,
    '        labels:',
    `          Service: ${service}`,
    '',
  ].join('\n');
}

export function cloudWatchAgentConfig(logGroupName: string): object {
  return {
    logs: {
      metrics_collected: {
        prometheus: {
          log_group_name: logGroupName,
          prometheus_config_path: 'env:PROMETHEUS_CONFIG_CONTENT',
          emf_processor: {
            metric_namespace: METRICS_NAMESPACE,
            metric_declaration_dedup: true,
            metric_declaration: Object.entries(EXPORTED_METRICS).map(([service, names]) => ({
              source_labels: ['Service'],
              label_matcher: `^${service}$`,
              dimensions: [['Service']],
              metric_selectors: [`^(${names.join('|')})$`],
            })),
          },
        },
      },
      force_flush_interval: 5,
    },
  };
}

/** A metric the sidecar publishes for a service. */
export function appMetric(
  service: string,
  metricName: string,
  statistic: string,
  period: Duration = Duration.minutes(1),
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { Service: service },
    statistic,
    period,
  });
}
