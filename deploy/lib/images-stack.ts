// The container registry: one ECR repository in the primary region, replicated to the others.
//
// It is its own stack because the image must exist before the services can start: deploy this stack,
// push `tapwave:<git sha>`, then deploy the regional stacks with `-c imageTag=<git sha>`.

import { CfnOutput, Duration, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { Construct } from 'constructs';
import { TapwaveConfig } from './config';

export interface ImagesStackProps extends StackProps {
  config: TapwaveConfig;
}

export class ImagesStack extends Stack {
  readonly repository: ecr.Repository;

  constructor(scope: Construct, id: string, props: ImagesStackProps) {
    super(scope, id, props);
    const cfg = props.config;

    this.repository = new ecr.Repository(this, 'Repository', {
      repositoryName: cfg.repositoryName,
      // A tag is a git commit and never moves: a rollback redeploys an older tag, never a re-pushed one.
      imageTagMutability: ecr.TagMutability.IMMUTABLE,
      imageScanOnPush: true,
      encryption: ecr.RepositoryEncryption.KMS,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        { description: 'drop untagged layers', tagStatus: ecr.TagStatus.UNTAGGED, maxImageAge: Duration.days(7) },
        // Keep enough history to roll back weeks, not forever.
        { description: 'keep the last 100 images', tagStatus: ecr.TagStatus.ANY, maxImageCount: 100 },
      ],
    });

    if (cfg.secondaryRegions.length > 0) {
      // Registry-wide setting of this account: every push is copied to the secondary regions under the
      // same repository name, where the regional stacks pull it from.
      new ecr.CfnReplicationConfiguration(this, 'Replication', {
        replicationConfiguration: {
          rules: [
            {
              destinations: cfg.secondaryRegions.map((region) => ({ region, registryId: this.account })),
              repositoryFilters: [{ filter: cfg.repositoryName, filterType: 'PREFIX_MATCH' }],
            },
          ],
        },
      });
    }

    new CfnOutput(this, 'RepositoryUri', {
      value: this.repository.repositoryUri,
      description: 'docker push <this>:<git sha>, then cdk deploy -c imageTag=<git sha>',
    });
  }
}
