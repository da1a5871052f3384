// Builds the stacks of the app from context; shared by bin/tapwave.ts and the tests.

import { App, Stack } from 'aws-cdk-lib';
import { TapwaveConfig, loadConfig } from './config';
import { ImagesStack } from './images-stack';
import { TapwaveStack } from './tapwave-stack';

export interface TapwaveApp {
  config: TapwaveConfig;
  images: ImagesStack;
  primary?: TapwaveStack;
  secondaries: TapwaveStack[];
}

export function regionalStackName(region: string): string {
  return `Tapwave-${region}`;
}

export function buildApp(app: App): TapwaveApp {
  const config = loadConfig(app.node);
  // The account comes from the deploying credentials (CDK_DEFAULT_ACCOUNT); synthesis needs none.
  const account = process.env.CDK_DEFAULT_ACCOUNT;
  const env = (region: string) => ({ account, region });

  const images = new ImagesStack(app, 'TapwaveImages', {
    env: env(config.primaryRegion),
    config,
    description: 'tapwave container registry',
  });
  const result: TapwaveApp = { config, images, secondaries: [] };
  if (!config.imageTag) return result;

  const primary = new TapwaveStack(app, regionalStackName(config.primaryRegion), {
    env: env(config.primaryRegion),
    config,
    role: 'primary',
    description: `tapwave ${config.primaryRegion} (primary): VPC, ECS, ALB, CloudFront, S3, Aurora writer, Redis`,
    crossRegionReferences: false,
  });
  primary.addStackDependency(images, 'the services pull their image from its repository');
  result.primary = primary;

  for (const region of config.secondaryRegions) {
    const stack = new TapwaveStack(app, regionalStackName(region), {
      env: env(region),
      config,
      role: 'secondary',
      description: `tapwave ${region} (secondary): VPC, ECS, ALB, Aurora global secondary, Redis`,
    });
    // The global cluster, the replicated secrets and the image replication come from the primary.
    stack.addStackDependency(primary, 'global cluster, replicated secrets and image replication');
    result.secondaries.push(stack);
  }
  return result;
}

export function allStacks(t: TapwaveApp): Stack[] {
  return [t.images, ...(t.primary ? [t.primary] : []), ...t.secondaries];
}
