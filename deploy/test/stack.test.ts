// Every piece of issue 6 is present in the synthesised templates and wired together.

import { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CLOUDFRONT_ORIGIN_FACING_PREFIX_LISTS, apiRequestsPerTargetPerMinute, BENCH } from '../lib/config';
import { regionalStackName } from '../lib/app';
import {
  checkAlbReachableOnlyFromCloudFront,
  checkDataTier,
  checkEdge,
  checkNetwork,
  checkObservability,
  checkOriginRecord,
  checkRoutes,
  checkScaling,
  checkServices,
  resources,
} from './checks';
import { EXAMPLE_CERT, buildTestApp, context, staticFixture } from './helpers';

const ORIGIN = `api-origin.${context.domainName}`;

describe('two regions (primary eu-central-1, secondary ap-southeast-1)', () => {
  const t = buildTestApp({
    secondaryRegions: 'ap-southeast-1',
    cloudFrontCertificateArn: EXAMPLE_CERT,
    staticDir: staticFixture(),
  });
  const primary = Template.fromStack(t.primary!);
  const secondary = Template.fromStack(t.secondaries[0]);

  it('names the stacks by region', () => {
    assert.equal(t.primary!.stackName, regionalStackName('eu-central-1'));
    assert.equal(t.secondaries[0].region, 'ap-southeast-1');
    assert.ok(t.secondaries[0].dependencies.includes(t.primary!), 'secondary deploys after primary');
  });

  for (const [name, tpl, role, region] of [
    ['primary', primary, 'primary', 'eu-central-1'],
    ['secondary', secondary, 'secondary', 'ap-southeast-1'],
  ] as const) {
    describe(name, () => {
      it('has a VPC over three AZs with a NAT gateway per AZ', () => checkNetwork(tpl, 3, 3));
      it('runs api, bot, worker and migrate from one image with secrets and logs', () => checkServices(tpl));
      it('routes /api/* to api and the webhook to bot, health-checked on /readyz', () => checkRoutes(tpl));
      it('admits only CloudFront to the ALB', () =>
        checkAlbReachableOnlyFromCloudFront(tpl, CLOUDFRONT_ORIGIN_FACING_PREFIX_LISTS[region]));
      it('keeps Aurora and Redis private, encrypted and reachable only from the services', () =>
        checkDataTier(tpl, role));
      it('has alarms, a dashboard and Container Insights', () => checkObservability(tpl));
      it('publishes a latency record for the ALB origin', () => checkOriginRecord(tpl, ORIGIN, region));
    });
  }

  it('scales api on CPU and requests per target from the benchmark, worker on CPU and backlog', () => {
    checkScaling(primary, Number(context.apiMinTasks), Number(context.apiMaxTasks));
    checkScaling(secondary, 2, Number(context.apiMaxTasks));
    assert.equal(
      apiRequestsPerTargetPerMinute(),
      Math.floor(BENCH.tapBatchesPerSecPerTask * (1 + BENCH.otherRequestsPerTapBatch) * 60 * 0.5),
    );
  });

  it('serves the Mini App from S3 and the API through CloudFront, once, in the primary', () => {
    checkEdge(primary, ORIGIN);
    secondary.resourceCountIs('AWS::CloudFront::Distribution', 0);
    primary.resourceCountIs('Custom::CDKBucketDeployment', 2);
    const aliases = resources(primary, 'AWS::Route53::RecordSet').filter(
      ([, r]) => r.Properties.Name === `${context.domainName}.`,
    );
    assert.equal(aliases.length, 2, 'A and AAAA alias for the public domain');
  });

  it('makes the primary cluster the source of an Aurora Global Database', () => {
    const [[, global]] = resources(primary, 'AWS::RDS::GlobalCluster');
    const [[clusterId]] = resources(primary, 'AWS::RDS::DBCluster');
    assert.deepEqual(global.Properties.SourceDBClusterIdentifier, { Ref: clusterId });
    const [[, sec]] = resources(secondary, 'AWS::RDS::DBCluster');
    assert.equal(sec.Properties.GlobalClusterIdentifier, global.Properties.GlobalClusterIdentifier);
    assert.equal(sec.Properties.EnableGlobalWriteForwarding, true);
  });

  it('replicates the secrets the secondary needs', () => {
    const replicated = resources(primary, 'AWS::SecretsManager::Secret').filter(([, s]) => s.Properties.ReplicaRegions);
    assert.deepEqual(
      replicated.map(([, s]) => s.Properties.Name).sort(),
      ['tapwave/bot/webhook-secret', 'tapwave/database/master', 'tapwave/edge/origin-verify'],
    );
    for (const [, s] of replicated) assert.deepEqual(s.Properties.ReplicaRegions, [{ Region: 'ap-southeast-1' }]);
    // Telegram knows one webhook secret: the secondary's copy is the primary's replica.
    const copies = resources(secondary, 'AWS::SecretsManager::Secret').filter(([, s]) =>
      JSON.stringify(s.Properties.SecretString ?? '').includes('tapwave/bot/webhook-secret'),
    );
    assert.equal(copies.length, 1);
  });

  it('starts with a placeholder bot token that the binary accepts, and bounded database pools', () => {
    const botToken = t.primary!.getLogicalId(t.primary!.services.botToken.node.defaultChild as CfnElement);
    const value = primary.toJSON().Resources[botToken].Properties.SecretString;
    // src/config.rs: digits, ':', then letters, digits, '_' or '-'.
    assert.match(value, /^\d+:[A-Za-z0-9_-]+$/);
    const pools: Record<string, string> = {};
    for (const [, td] of resources(primary, 'AWS::ECS::TaskDefinition')) {
      const app = td.Properties.ContainerDefinitions.find((c: { Name: string }) => c.Name === 'app');
      const env = Object.fromEntries(app.Environment.map((e: { Name: string; Value: string }) => [e.Name, e.Value]));
      pools[app.Command[0]] = env.DB_MAX_CONNECTIONS;
    }
    assert.deepEqual(pools, { api: '16', bot: '4', worker: '8', migrate: '2' });
  });

  it('gives the worker an s3:// warehouse in its region, which the binary writes to', () => {
    const worker = resources(primary, 'AWS::ECS::TaskDefinition')
      .map(([, td]) => td.Properties.ContainerDefinitions.find((c: { Name: string }) => c.Name === 'app'))
      .find((app) => app.Command[0] === 'worker');
    const env = Object.fromEntries(worker.Environment.map((e: { Name: string; Value: unknown }) => [e.Name, e.Value]));
    assert.match(JSON.stringify(env.WAREHOUSE_URL), /s3:\/\//);
    // worker/src/objects.rs refuses an s3:// URL without the bucket's region.
    assert.ok(env.AWS_REGION, 'AWS_REGION is set');
  });

  it('replicates the image repository to the secondary region', () => {
    const images = Template.fromStack(t.images);
    images.hasResourceProperties('AWS::ECR::Repository', { ImageTagMutability: 'IMMUTABLE' });
    images.resourceCountIs('AWS::ECR::ReplicationConfiguration', 1);
  });
});

describe('one region, CloudFront domain, no Mini App files yet', () => {
  const t = buildTestApp({ staticDir: '/nonexistent-tapwave-static' });
  const primary = Template.fromStack(t.primary!);

  it('synthesises without a secondary or a global cluster', () => {
    assert.equal(t.secondaries.length, 0);
    primary.resourceCountIs('AWS::RDS::GlobalCluster', 0);
    primary.resourceCountIs('Custom::CDKBucketDeployment', 0);
    checkEdge(primary, ORIGIN);
    checkRoutes(primary);
    checkDataTier(primary, 'primary');
  });

  it('honours the NAT gateway knob', () => {
    const one = Template.fromStack(buildTestApp({ natGateways: 1, staticDir: '/nonexistent' }).primary!);
    checkNetwork(one, 3, 1);
  });
});

describe('without an image tag', () => {
  it('synthesises only the registry', () => {
    const t = buildTestApp({ imageTag: '' });
    assert.equal(t.primary, undefined);
    assert.equal(t.secondaries.length, 0);
  });
});
