// The checks catch what they are for: each test breaks one thing in an otherwise correct stack (a
// route, a port, an exposure) the way a careless change would, and expects the check to fail.

import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CLOUDFRONT_ORIGIN_FACING_PREFIX_LISTS } from '../lib/config';
import { TapwaveStack } from '../lib/tapwave-stack';
import { checkAlbReachableOnlyFromCloudFront, checkDataTier, checkEdge, checkRoutes } from './checks';
import { buildTestApp, context } from './helpers';

const ORIGIN = `api-origin.${context.domainName}`;
const PREFIX_LIST = CLOUDFRONT_ORIGIN_FACING_PREFIX_LISTS['eu-central-1'];

/** A fresh primary stack to break; synthesised only after `breakIt` ran. */
function broken(breakIt: (stack: TapwaveStack) => void): Template {
  const stack = buildTestApp({ staticDir: '/nonexistent' }).primary!;
  breakIt(stack);
  return Template.fromStack(stack);
}

function rule(stack: TapwaveStack, id: 'Api' | 'Webhook'): elbv2.CfnListenerRule {
  return stack.services.listener.node.findChild(`${id}Rule`).node.defaultChild as elbv2.CfnListenerRule;
}

describe('a broken route fails the checks', () => {
  it('control: the unbroken stack passes', () => {
    const t = broken(() => undefined);
    checkRoutes(t);
    checkDataTier(t, 'primary');
    checkAlbReachableOnlyFromCloudFront(t, PREFIX_LIST);
    checkEdge(t, ORIGIN);
  });

  it('api rule on a mistyped path', () => {
    const t = broken((s) => rule(s, 'Api').addPropertyOverride('Conditions.0.PathPatternConfig.Values', ['/api/v1']));
    assert.throws(() => checkRoutes(t), /ALB routes/);
  });

  it('webhook forwarded to the api service', () => {
    const t = broken((s) =>
      rule(s, 'Webhook').addPropertyOverride('Actions.0.TargetGroupArn', s.services.apiTargetGroup.targetGroupArn),
    );
    assert.throws(() => checkRoutes(t), /ALB routes/);
  });

  it('an extra rule exposing the api without the CloudFront header', () => {
    const t = broken((s) =>
      s.services.listener.addAction('Everything', {
        priority: 5,
        conditions: [elbv2.ListenerCondition.pathPatterns(['/*'])],
        action: elbv2.ListenerAction.forward([s.services.apiTargetGroup]),
      }),
    );
    assert.throws(() => checkRoutes(t), /only CloudFront's requests/);
  });

  it('health check moved off /readyz', () => {
    const t = broken((s) => s.services.apiTargetGroup.configureHealthCheck({ path: '/healthz' }));
    assert.throws(() => checkRoutes(t), /\/readyz/);
  });

  it('CloudFront behaviour for the API on a mistyped path', () => {
    const t = broken((s) => {
      const dist = s.edge!.distribution.node.defaultChild as cloudfront.CfnDistribution;
      // Behaviours in declaration order: /assets/*, /api/*, /telegram/webhook.
      dist.addPropertyOverride('DistributionConfig.CacheBehaviors.1.PathPattern', '/api');
    });
    assert.throws(() => checkEdge(t, ORIGIN), /CloudFront sends \/api\/\* to the ALB/);
  });

  it('CloudFront caching the API', () => {
    const t = broken((s) => {
      const dist = s.edge!.distribution.node.defaultChild as cloudfront.CfnDistribution;
      dist.addPropertyOverride(
        'DistributionConfig.CacheBehaviors.1.CachePolicyId',
        cloudfront.CachePolicy.CACHING_OPTIMIZED.cachePolicyId,
      );
    });
    assert.throws(() => checkEdge(t, ORIGIN), /never cached/);
  });
});

describe('an open database port fails the checks', () => {
  it('Postgres open to the internet', () => {
    const t = broken((s) => s.data.dbSecurityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(5432)));
    assert.throws(() => checkDataTier(t, 'primary'), /Aurora/);
  });

  it('Postgres open to the whole VPC', () => {
    const t = broken((s) =>
      s.data.dbSecurityGroup.addIngressRule(ec2.Peer.ipv4(s.network.vpc.vpcCidrBlock), ec2.Port.tcp(5432)),
    );
    assert.throws(() => checkDataTier(t, 'primary'), /Aurora/);
  });

  it('Postgres reachable from the load balancer', () => {
    const t = broken((s) => s.data.dbSecurityGroup.addIngressRule(s.services.albSecurityGroup, ec2.Port.tcp(5432)));
    assert.throws(() => checkDataTier(t, 'primary'), /Aurora/);
  });

  it('a database instance made publicly accessible', () => {
    const t = broken((s) => {
      const writer = s.data.cluster.node.findChild('writer').node.defaultChild as rds.CfnDBInstance;
      writer.publiclyAccessible = true;
    });
    assert.throws(() => checkDataTier(t, 'primary'), /publicly accessible/);
  });

  it('Redis open on every port to a service', () => {
    const t = broken((s) => s.data.redisSecurityGroup.addIngressRule(s.services.securityGroups.bot, ec2.Port.allTcp()));
    assert.throws(() => checkDataTier(t, 'primary'), /Redis/);
  });

  it('the ALB open to the world', () => {
    const t = broken((s) => s.services.albSecurityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443)));
    assert.throws(() => checkAlbReachableOnlyFromCloudFront(t, PREFIX_LIST), /prefix list/);
  });
});
