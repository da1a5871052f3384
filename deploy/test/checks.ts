// Checks on a synthesised regional template. Each function throws (AssertionError) when the
// template breaks the property it names; the tests run them on the real stacks and on stacks broken
// on purpose (faults.test.ts), to show that a broken route or an open database port is caught.

import { Template } from 'aws-cdk-lib/assertions';
import assert from 'node:assert/strict';
import { ORIGIN_VERIFY_HEADER, apiRequestsPerTargetPerMinute } from '../lib/config';
import { ALARMS } from '../lib/monitoring';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * The public paths, written out here rather than imported from lib/: they come from the contract
 * (shared/API.md: the API under /api/v1/*, the bot's webhook path), so a change to the routing
 * constants in lib/ must fail these checks instead of moving both sides together.
 */
export const API_PATH = '/api/*';
export const WEBHOOK_PATH = '/telegram/webhook';

/** CloudFront managed policy ids (the same in every account). */
export const MANAGED = {
  cachingDisabled: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad',
  cachingOptimized: '658327ea-f89d-4fab-a63d-7e88639e58f6',
  allViewerExceptHostHeader: 'b689b0a8-53d0-40ab-baf2-68738e2966ac',
};

export function resources(t: Template, type: string): [string, Json][] {
  return Object.entries(t.toJSON().Resources as Record<string, Json>).filter(([, r]) => r.Type === type);
}

function one(t: Template, type: string, pred: (r: Json) => boolean, what: string): [string, Json] {
  const found = resources(t, type).filter(([, r]) => pred(r));
  assert.equal(found.length, 1, `expected exactly one ${what}, found ${found.length}`);
  return found[0];
}

/** The logical id a `{Ref}` or `{Fn::GetAtt}` points to. */
export function refId(v: Json): string | undefined {
  if (v && typeof v === 'object') {
    if (typeof v.Ref === 'string') return v.Ref;
    if (Array.isArray(v['Fn::GetAtt'])) return v['Fn::GetAtt'][0];
  }
  return undefined;
}

export function service(t: Template, name: string): [string, Json] {
  return one(t, 'AWS::ECS::Service', (r) => r.Properties.ServiceName === name, `ECS service ${name}`);
}

export function serviceSecurityGroups(t: Template): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['api', 'bot', 'worker']) {
    const [, svc] = service(t, name);
    const sgs = svc.Properties.NetworkConfiguration.AwsvpcConfiguration.SecurityGroups.map(refId);
    assert.equal(sgs.length, 1, `${name}: one security group`);
    out[name] = sgs[0];
  }
  return out;
}

/** Every ingress rule of a security group: inline ones and AWS::EC2::SecurityGroupIngress resources. */
export function ingressRules(t: Template, sgId: string): Json[] {
  const sg = t.toJSON().Resources[sgId];
  assert.ok(sg, `security group ${sgId} exists`);
  const inline = (sg.Properties.SecurityGroupIngress ?? []) as Json[];
  const separate = resources(t, 'AWS::EC2::SecurityGroupIngress')
    .filter(([, r]) => refId(r.Properties.GroupId) === sgId)
    .map(([, r]) => r.Properties);
  return [...inline, ...separate];
}

function container(taskDef: Json, name: string): Json {
  const c = taskDef.Properties.ContainerDefinitions.find((d: Json) => d.Name === name);
  assert.ok(c, `container ${name}`);
  return c;
}

// ---------------------------------------------------------------------------------------------------

export function checkNetwork(t: Template, azs: number, natGateways: number): void {
  t.resourceCountIs('AWS::EC2::VPC', 1);
  const subnets = resources(t, 'AWS::EC2::Subnet');
  assert.equal(subnets.length, azs * 3, 'public, private and isolated subnet in every AZ');
  assert.equal(new Set(subnets.map(([, s]) => s.Properties.AvailabilityZone)).size, azs, 'spread over the AZs');
  for (const [id, s] of subnets) assert.equal(s.Properties.MapPublicIpOnLaunch, false, `${id}: no public IPs`);
  t.resourceCountIs('AWS::EC2::NatGateway', natGateways);
  t.resourceCountIs('AWS::EC2::FlowLog', 1);
}

export function checkServices(t: Template): void {
  const byCommand: Record<string, Json> = {};
  for (const [, td] of resources(t, 'AWS::ECS::TaskDefinition')) {
    assert.deepEqual(td.Properties.RequiresCompatibilities, ['FARGATE']);
    const app = container(td, 'app');
    byCommand[app.Command.join(' ')] = td;
  }
  assert.deepEqual(Object.keys(byCommand).sort(), ['api', 'bot', 'migrate', 'worker'], 'one task per command');
  const images = new Set(Object.values(byCommand).map((td) => JSON.stringify(container(td, 'app').Image)));
  assert.equal(images.size, 1, 'all from one image');

  for (const name of ['api', 'bot', 'worker']) {
    const [, svc] = service(t, name);
    const td = t.toJSON().Resources[refId(svc.Properties.TaskDefinition)!];
    assert.deepEqual(container(td, 'app').Command, [name], `${name} service runs \`tapwave ${name}\``);
    assert.equal(svc.Properties.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp, 'DISABLED');
    assert.equal(svc.Properties.DeploymentConfiguration.DeploymentCircuitBreaker.Rollback, true);

    const app = container(td, 'app');
    const env = Object.fromEntries(app.Environment.map((e: Json) => [e.Name, e.Value]));
    assert.equal(env.BIND, '0.0.0.0:8080');
    assert.equal(env.LOG_FORMAT, 'json');
    assert.equal(env.TRUSTED_PROXIES, '2');
    const secrets = app.Secrets.map((s: Json) => s.Name).sort();
    for (const s of ['BOT_TOKEN', 'DATABASE_URL', 'REDIS_URL']) assert.ok(secrets.includes(s), `${name}: secret ${s}`);
    for (const s of app.Secrets) assert.ok(refId(s.ValueFrom), `${name}: ${s.Name} from Secrets Manager`);
    if (name === 'bot') {
      assert.ok(secrets.includes('WEBHOOK_SECRET'), 'bot: WEBHOOK_SECRET');
      assert.match(String(JSON.stringify(env.WEBHOOK_URL)), /\/telegram\/webhook/);
    }
    assert.equal(app.LogConfiguration.LogDriver, 'awslogs', `${name}: logs to CloudWatch`);
    assert.equal(app.ReadonlyRootFilesystem, true);
    assert.deepEqual(app.PortMappings.map((p: Json) => p.ContainerPort), [8080]);

    // The metrics sidecar scrapes this task's /metrics.
    const agent = container(td, 'cwagent');
    const prom = agent.Environment.find((e: Json) => e.Name === 'PROMETHEUS_CONFIG_CONTENT').Value as string;
    assert.match(prom, /localhost:8080/);
    assert.match(prom, new RegExp(`Service: ${name}`));
  }
  assert.equal((service(t, 'worker')[1].Properties.LoadBalancers ?? []).length, 0, 'worker has no load balancer');
  const migrate = container(byCommand.migrate, 'app');
  assert.deepEqual(migrate.Secrets.map((s: Json) => s.Name), ['DATABASE_URL']);
}

/** ALB listener, its rules and target groups: /api/* to api, the webhook path to bot, /readyz checks. */
export function checkRoutes(t: Template): void {
  const [listenerId, listener] = one(t, 'AWS::ElasticLoadBalancingV2::Listener', () => true, 'listener');
  assert.equal(listener.Properties.Port, 443);
  assert.equal(listener.Properties.Protocol, 'HTTPS');
  assert.equal(listener.Properties.Certificates.length, 1, 'listener has a certificate');
  assert.equal(listener.Properties.DefaultActions[0].Type, 'fixed-response', 'unmatched paths are refused');

  const targetGroupOf = (name: string) => {
    const lbs = service(t, name)[1].Properties.LoadBalancers;
    assert.ok(lbs && lbs.length === 1, `${name} is behind the load balancer`);
    assert.equal(lbs[0].ContainerPort, 8080);
    return refId(lbs[0].TargetGroupArn)!;
  };
  const expected: Record<string, string> = {
    [API_PATH]: targetGroupOf('api'),
    [WEBHOOK_PATH]: targetGroupOf('bot'),
  };

  const rules = resources(t, 'AWS::ElasticLoadBalancingV2::ListenerRule').filter(
    ([, r]) => refId(r.Properties.ListenerArn) === listenerId,
  );
  const routed: Record<string, string> = {};
  for (const [id, r] of rules) {
    const paths = r.Properties.Conditions.filter((c: Json) => c.Field === 'path-pattern');
    assert.equal(paths.length, 1, `${id}: one path condition`);
    const header = r.Properties.Conditions.find((c: Json) => c.Field === 'http-header');
    assert.equal(header?.HttpHeaderConfig.HttpHeaderName, ORIGIN_VERIFY_HEADER, `${id}: only CloudFront's requests`);
    const forward = r.Properties.Actions.find((a: Json) => a.Type === 'forward');
    assert.ok(forward, `${id}: forwards`);
    for (const p of paths[0].PathPatternConfig.Values as string[]) {
      assert.equal(routed[p], undefined, `${p} routed twice`);
      routed[p] = refId(forward.TargetGroupArn)!;
    }
  }
  assert.deepEqual(routed, expected, 'ALB routes: /api/* -> api, /telegram/webhook -> bot, nothing else');

  for (const tgId of Object.values(expected)) {
    const tg = t.toJSON().Resources[tgId];
    assert.equal(tg.Properties.TargetType, 'ip');
    assert.equal(tg.Properties.Port, 8080);
    assert.equal(tg.Properties.HealthCheckPath, '/readyz', `${tgId}: health check on /readyz`);
  }
}

/** The ALB admits HTTPS from CloudFront's managed prefix list and nothing else. */
export function checkAlbReachableOnlyFromCloudFront(t: Template, prefixListId: string): void {
  const [, alb] = one(t, 'AWS::ElasticLoadBalancingV2::LoadBalancer', () => true, 'load balancer');
  assert.equal(alb.Properties.Scheme, 'internet-facing');
  const sgIds = alb.Properties.SecurityGroups.map(refId);
  assert.equal(sgIds.length, 1);
  const rules = ingressRules(t, sgIds[0]);
  assert.ok(rules.length > 0, 'ALB has an ingress rule');
  for (const r of rules) {
    assert.equal(r.SourcePrefixListId, prefixListId, 'ALB ingress only from the CloudFront prefix list');
    assert.equal(r.CidrIp, undefined);
    assert.equal(r.CidrIpv6, undefined);
    assert.equal(r.FromPort, 443);
    assert.equal(r.ToPort, 443);
  }
}

/** Aurora and Redis: private, encrypted, Multi-AZ, reachable only from the three services. */
export function checkDataTier(t: Template, role: 'primary' | 'secondary'): void {
  const svcSgs = Object.values(serviceSecurityGroups(t));
  const isolated = new Set(
    resources(t, 'AWS::EC2::Subnet')
      .filter(([, s]) => s.Properties.Tags.some((tag: Json) => tag.Key === 'aws-cdk:subnet-type' && tag.Value === 'Isolated'))
      .map(([id]) => id),
  );
  const onlyFromServices = (sgId: string, port: number, what: string) => {
    const rules = ingressRules(t, sgId);
    for (const r of rules) {
      assert.equal(r.CidrIp, undefined, `${what}: no address range may reach it`);
      assert.equal(r.CidrIpv6, undefined, `${what}: no address range may reach it`);
      assert.equal(r.SourcePrefixListId, undefined, `${what}: no prefix list may reach it`);
      assert.ok(svcSgs.includes(refId(r.SourceSecurityGroupId)!), `${what}: only from the service security groups`);
      assert.equal(r.FromPort, port, `${what}: port ${port} only`);
      assert.equal(r.ToPort, port, `${what}: port ${port} only`);
    }
    assert.equal(rules.length, svcSgs.length, `${what}: one rule per service`);
  };

  const [, cluster] = one(t, 'AWS::RDS::DBCluster', () => true, 'Aurora cluster');
  const p = cluster.Properties;
  assert.equal(p.Engine, 'aurora-postgresql');
  assert.equal(p.StorageEncrypted, true);
  assert.ok(p.BackupRetentionPeriod >= 7, 'backups kept at least a week');
  assert.equal(p.DeletionProtection, true);
  assert.ok(p.ServerlessV2ScalingConfiguration, 'Serverless v2');
  const subnetGroup = t.toJSON().Resources[refId(p.DBSubnetGroupName)!];
  for (const s of subnetGroup.Properties.SubnetIds) assert.ok(isolated.has(refId(s)!), 'Aurora in isolated subnets');
  const instances = resources(t, 'AWS::RDS::DBInstance');
  assert.ok(instances.length >= 2, 'writer and reader');
  for (const [id, i] of instances) {
    assert.equal(i.Properties.DBInstanceClass, 'db.serverless');
    assert.equal(i.Properties.PubliclyAccessible, false, `${id} is not publicly accessible`);
  }
  const dbSgs = p.VpcSecurityGroupIds.map(refId);
  assert.equal(dbSgs.length, 1);
  onlyFromServices(dbSgs[0], 5432, 'Aurora');
  if (role === 'secondary') {
    assert.ok(p.GlobalClusterIdentifier, 'secondary joins the global database');
    assert.equal(p.MasterUsername, undefined, 'secondary takes its users from the primary');
  }

  const [, redis] = one(t, 'AWS::ElastiCache::ReplicationGroup', () => true, 'Redis replication group');
  const rp = redis.Properties;
  assert.equal(rp.MultiAZEnabled, true);
  assert.equal(rp.AutomaticFailoverEnabled, true);
  assert.equal(rp.TransitEncryptionEnabled, true);
  assert.equal(rp.AtRestEncryptionEnabled, true);
  assert.ok(rp.AuthToken, 'Redis AUTH token');
  assert.ok(rp.ReplicasPerNodeGroup >= 1, 'at least one replica');
  const cacheSubnets = t.toJSON().Resources[refId(rp.CacheSubnetGroupName)!];
  for (const s of cacheSubnets.Properties.SubnetIds) assert.ok(isolated.has(refId(s)!), 'Redis in isolated subnets');
  assert.equal(rp.SecurityGroupIds.length, 1);
  onlyFromServices(refId(rp.SecurityGroupIds[0])!, 6379, 'Redis');
}

export function checkScaling(t: Template, apiMin: number, apiMax: number): void {
  const targets = resources(t, 'AWS::ApplicationAutoScaling::ScalableTarget');
  const targetOf = (name: string) => {
    const svcId = service(t, name)[0];
    const found = targets.filter(([, r]) => JSON.stringify(r.Properties.ResourceId).includes(`"${svcId}"`));
    assert.equal(found.length, 1, `${name} has a scalable target`);
    return found[0];
  };
  const [apiTargetId, apiTarget] = targetOf('api');
  assert.equal(apiTarget.Properties.MinCapacity, apiMin);
  assert.equal(apiTarget.Properties.MaxCapacity, apiMax);
  const policies = resources(t, 'AWS::ApplicationAutoScaling::ScalingPolicy');
  const policiesOf = (id: string) => policies.filter(([, r]) => refId(r.Properties.ScalingTargetId) === id).map(([, r]) => r.Properties);

  const api = policiesOf(apiTargetId);
  const metricType = (p: Json) => p.TargetTrackingScalingPolicyConfiguration?.PredefinedMetricSpecification?.PredefinedMetricType;
  const cpu = api.find((p) => metricType(p) === 'ECSServiceAverageCPUUtilization');
  assert.ok(cpu, 'api scales on CPU');
  const req = api.find((p) => metricType(p) === 'ALBRequestCountPerTarget');
  assert.ok(req, 'api scales on ALB requests per target');
  assert.equal(req.TargetTrackingScalingPolicyConfiguration.TargetValue, apiRequestsPerTargetPerMinute());
  const label = JSON.stringify(req.TargetTrackingScalingPolicyConfiguration.PredefinedMetricSpecification.ResourceLabel);
  const apiTg = refId(service(t, 'api')[1].Properties.LoadBalancers[0].TargetGroupArn)!;
  assert.ok(label.includes(apiTg), 'requests per target of the api target group');

  const [workerTargetId] = targetOf('worker');
  const worker = policiesOf(workerTargetId);
  assert.ok(worker.some((p) => metricType(p) === 'ECSServiceAverageCPUUtilization'), 'worker scales on CPU');
  assert.ok(worker.some((p) => p.PolicyType === 'StepScaling'), 'worker scales on its backlog');
}

export function checkEdge(t: Template, originDomainName: string): void {
  const [, dist] = one(t, 'AWS::CloudFront::Distribution', () => true, 'CloudFront distribution');
  const d = dist.Properties.DistributionConfig;
  const origins: Record<string, Json> = Object.fromEntries(d.Origins.map((o: Json) => [o.Id, o]));

  const defaultOrigin = origins[d.DefaultCacheBehavior.TargetOriginId];
  assert.ok(defaultOrigin.S3OriginConfig, 'default origin is S3');
  assert.ok(defaultOrigin.OriginAccessControlId, 'S3 through origin access control');
  const bucket = t.toJSON().Resources[refId(defaultOrigin.DomainName)!];
  assert.equal(bucket.Type, 'AWS::S3::Bucket');
  const pab = bucket.Properties.PublicAccessBlockConfiguration;
  assert.deepEqual(
    [pab.BlockPublicAcls, pab.BlockPublicPolicy, pab.IgnorePublicAcls, pab.RestrictPublicBuckets],
    [true, true, true, true],
    'static bucket is private',
  );
  assert.equal(d.DefaultCacheBehavior.ViewerProtocolPolicy, 'redirect-to-https');

  const behaviors: Record<string, Json> = Object.fromEntries(d.CacheBehaviors.map((b: Json) => [b.PathPattern, b]));
  for (const path of [API_PATH, WEBHOOK_PATH]) {
    const b = behaviors[path];
    assert.ok(b, `CloudFront sends ${path} to the ALB`);
    const o = origins[b.TargetOriginId];
    assert.equal(o.DomainName, originDomainName, `${path}: ALB origin`);
    assert.equal(o.CustomOriginConfig.OriginProtocolPolicy, 'https-only');
    assert.ok(o.OriginCustomHeaders.some((h: Json) => h.HeaderName === ORIGIN_VERIFY_HEADER), 'origin header');
    assert.equal(b.CachePolicyId, MANAGED.cachingDisabled, `${path}: never cached`);
    assert.equal(b.OriginRequestPolicyId, MANAGED.allViewerExceptHostHeader, `${path}: Authorization forwarded`);
    assert.ok(b.AllowedMethods.includes('POST'), `${path}: POST allowed`);
    assert.ok(b.ResponseHeadersPolicyId, `${path}: security headers`);
  }
  assert.equal(origins[behaviors['/assets/*'].TargetOriginId], defaultOrigin, '/assets/* from S3');
  assert.equal(behaviors['/assets/*'].CachePolicyId, MANAGED.cachingOptimized);

  const [, headers] = one(t, 'AWS::CloudFront::ResponseHeadersPolicy', () => true, 'response headers policy');
  const sec = headers.Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig;
  assert.ok(sec.StrictTransportSecurity.AccessControlMaxAgeSec >= 31536000, 'HSTS for a year');
  assert.equal(sec.ContentTypeOptions.Override, true);
  assert.ok(sec.ReferrerPolicy);
}

export function checkObservability(t: Template): void {
  const names = resources(t, 'AWS::CloudWatch::Alarm').map(([, a]) => String(a.Properties.AlarmName ?? ''));
  for (const alarm of ALARMS) assert.ok(names.some((n) => n.endsWith(`-${alarm}`)), `alarm ${alarm}`);
  t.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  const [, cluster] = one(t, 'AWS::ECS::Cluster', () => true, 'ECS cluster');
  assert.ok(
    cluster.Properties.ClusterSettings.some((s: Json) => s.Name === 'containerInsights' && s.Value !== 'disabled'),
    'Container Insights',
  );
}

/** One latency record per region for the ALB origin, evaluated for health. */
export function checkOriginRecord(t: Template, originDomainName: string, region: string): void {
  const [, rec] = one(
    t,
    'AWS::Route53::RecordSet',
    (r) => String(r.Properties.Name).startsWith(originDomainName),
    'origin record',
  );
  assert.equal(rec.Properties.Region, region);
  assert.equal(rec.Properties.SetIdentifier, region);
  assert.equal(rec.Properties.AliasTarget.EvaluateTargetHealth, true);
}
