// The one list of checkov checks this app skips, each with the reason.
//
// A skip is attached to the individual CloudFormation resource it concerns (checkov reads
// `Metadata.checkov.skip` in a template), never globally, so a new resource of the same type is still
// checked. `check.sh` runs checkov on the synthesised templates and fails on anything not listed here.

import { CfnResource, IAspect } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

export const SKIPS = {
  // --- Lambda functions that CDK itself adds (BucketDeployment, default-SG restriction) -------------
  CKV_AWS_115:
    'CDK-managed provisioning function, invoked only by CloudFormation during a deployment: no concurrency limit needed',
  CKV_AWS_116:
    'CDK-managed provisioning function, invoked synchronously by CloudFormation, which reports its failures: no DLQ',
  CKV_AWS_117:
    'CDK-managed provisioning function that only calls AWS APIs (S3, EC2, CloudFront): it needs no VPC',
  CKV_AWS_173: 'CDK-managed provisioning function: its environment holds no secrets, only flags',
  CKV_AWS_111_INVALIDATION:
    'BucketDeployment role: CDK grants cloudfront:CreateInvalidation/GetInvalidation on *; it only invalidates this stack\'s distribution after an upload',

  // --- Buckets ---------------------------------------------------------------------------------------
  CKV_AWS_18_LOGS: 'This is the access-log bucket itself; logging it into itself would loop',
  CKV_AWS_21_LOGS: 'Access logs are write-once and expire after 90 days; versioning them would only add cost',

  // --- CloudFront --------------------------------------------------------------------------------------
  CKV_AWS_68:
    'WAF for CloudFront is created in us-east-1 and billed per request: attach one with -c webAclArn=...; abusive clients are also limited in the app by the shared Redis rate limiter',
  CKV_AWS_174_DEFAULT_CERT:
    'Only without a custom domain: the default *.cloudfront.net certificate cannot raise the minimum TLS version; with cloudFrontCertificateArn the policy is TLSv1.2_2021',
} as const;

export type SkipKey = keyof typeof SKIPS;

/** The checkov id of a skip key: `CKV_AWS_18_LOGS` -> `CKV_AWS_18`. */
export function checkId(key: SkipKey): string {
  const m = /^(CKV2?_AWS_\d+)/.exec(key);
  if (!m) throw new Error(`not a checkov id: ${key}`);
  return m[1];
}

/** Attaches checkov skips (with their reasons) to the CloudFormation resource behind `scope`. */
export function skipChecks(scope: IConstruct, ...keys: SkipKey[]): void {
  const res = scope instanceof CfnResource ? scope : (scope.node.defaultChild as CfnResource | undefined);
  if (!res || !(res instanceof CfnResource)) {
    throw new Error(`skipChecks: ${scope.node.path} has no CloudFormation resource`);
  }
  const existing = (res.getMetadata('checkov') as { skip?: { id: string; comment: string }[] } | undefined)?.skip ?? [];
  const skip = [...existing];
  for (const key of keys) {
    const id = checkId(key);
    if (!skip.some((s) => s.id === id)) skip.push({ id, comment: SKIPS[key] });
  }
  res.addMetadata('checkov', { skip });
}

/**
 * Lambda functions are never written by this app: every one in the templates is a CDK-managed
 * provider (BucketDeployment, default security group restriction). They, and BucketDeployment's
 * role policy, get the skips above.
 */
export class SkipCdkManagedFunctions implements IAspect {
  visit(node: IConstruct): void {
    if (!(node instanceof CfnResource)) return;
    if (node.cfnResourceType === 'AWS::Lambda::Function') {
      skipChecks(node, 'CKV_AWS_115', 'CKV_AWS_116', 'CKV_AWS_117', 'CKV_AWS_173');
    }
    if (node.cfnResourceType === 'AWS::IAM::Policy' && node.node.path.includes('/Custom::CDKBucketDeployment')) {
      skipChecks(node, 'CKV_AWS_111_INVALIDATION');
    }
  }
}
