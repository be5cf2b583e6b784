/**
 * cdk-nag's findings on the function that aws-s3-deployment creates to copy the waiting page into
 * its bucket (one per stack, shared by every BucketDeployment), each acknowledged with its reason.
 *
 * Its role is CDK's: read the page's asset from CDK's asset bucket, write and prune objects under
 * the page bucket's prefix, invalidate the distribution. The wildcards of those grants are found
 * the way cdk-nag names them (`Action::s3:List*`, `Resource::<PageBucket.Arn>/*`) and acknowledged
 * one by one, so a grant of any other kind added to the role would still be reported.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import type { CfnBucket, IBucket } from 'aws-cdk-lib/aws-s3';
import type { CfnPolicy, Policy } from 'aws-cdk-lib/aws-iam';
import type { BucketDeployment } from 'aws-cdk-lib/aws-s3-deployment';
import type { IConstruct } from 'constructs';

/** The wildcard actions CDK grants the deployment function, and why each is acceptable. */
const ACTION_REASONS: Record<string, string> = {
  's3:GetObject*': 'CDK grants the deployment function read access to its own asset (the page build) with the s3:GetObject* family.',
  's3:GetBucket*': 'CDK grants the deployment function bucket reads (location, versioning) of the asset and page buckets it copies between.',
  's3:List*': 'The deployment function lists the page prefix to prune objects a new build no longer has.',
  's3:DeleteObject*': 'The deployment function deletes pruned objects under the page prefix, and every page object when the stack is deleted.',
  's3:Abort*': 'The deployment function aborts its own failed multipart uploads into the page bucket.',
};

/** cdk-nag's flat rendering of a resolved CloudFormation value (its utils/flatten-cfn-reference). */
function flatten(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
  const value = node as Record<string, unknown>;
  if (value['Fn::Join']) {
    const [delimiter, items] = value['Fn::Join'] as [string, unknown[]];
    return items.map(flatten).join(delimiter);
  }
  if (value['Fn::Sub']) return flatten(value['Fn::Sub']);
  if (value['Fn::GetAtt']) {
    const [resource, attribute] = value['Fn::GetAtt'] as [unknown, unknown];
    return `<${flatten(resource)}.${flatten(attribute)}>`;
  }
  if (value['Fn::ImportValue']) return flatten(value['Fn::ImportValue']);
  if (value.Ref) return `<${flatten(value.Ref)}>`;
  return JSON.stringify(node);
}

const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]);

/** Acknowledges the deployment function's findings (L1, IAM4, and each IAM5 wildcard of its grants). */
export function acknowledgeDeploymentFunction(deployment: BucketDeployment, pageBucket: IBucket): void {
  const role = deployment.handlerRole;
  const handler: IConstruct | undefined = role.node.scope;
  if (!handler) return;
  const stack = Stack.of(deployment);
  Validations.of(handler).acknowledge(
    { id: 'AwsSolutions::AwsSolutions-L1', reason: "The runtime of aws-s3-deployment's copy function is chosen by aws-cdk-lib." },
    {
      id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: 'The CDK deployment function uses the AWS managed basic execution role for its own logs.',
    },
  );
  const policy = role.node.tryFindChild('DefaultPolicy') as Policy | undefined;
  const cfnPolicy = policy?.node.defaultChild as CfnPolicy | undefined;
  if (!cfnPolicy) return;
  const pageBucketArn = `<${stack.getLogicalId(pageBucket.node.defaultChild as CfnBucket)}.Arn>/*`;
  const document = stack.resolve(cfnPolicy.policyDocument) as { Statement?: { Effect?: string; Action?: unknown; Resource?: unknown }[] };
  const acknowledgements = new Map<string, string>();
  for (const statement of document.Statement ?? []) {
    if (statement.Effect !== 'Allow') continue;
    for (const action of asArray(statement.Action).map(String).filter((a) => a.includes('*'))) {
      const reason = ACTION_REASONS[action];
      if (reason) acknowledgements.set(`Action::${action}`, reason);
    }
    for (const resource of asArray(statement.Resource).map(flatten).filter((r) => r.includes('*'))) {
      if (resource === '*') {
        acknowledgements.set('Resource::*', 'CloudFront invalidations (CreateInvalidation, GetInvalidation) are granted on "*" by aws-s3-deployment; it invalidates only the page paths.');
      } else if (resource === pageBucketArn) {
        acknowledgements.set(`Resource::${resource}`, 'The deployment function writes and prunes the objects of the page bucket, which holds nothing but the page.');
      } else if (/^arn:<AWS::Partition>:s3:::cdk-[^/]*-assets-[^/]*\/\*$/.test(resource)) {
        acknowledgements.set(`Resource::${resource}`, "The deployment function reads the page's asset from CDK's asset bucket (object names are content hashes).");
      }
    }
  }
  Validations.of(cfnPolicy).acknowledge(...[...acknowledgements].map(([finding, reason]) => ({ id: `AwsSolutions::AwsSolutions-IAM5[${finding}]`, reason })));
}
