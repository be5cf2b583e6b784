/**
 * Resolves the CloudFormation intrinsics the synthesized template uses (Ref, Fn::GetAtt, Fn::Join,
 * Fn::Select, Fn::Split, Fn::Sub, AWS pseudo parameters) against the resources the local runtime
 * created. An unknown intrinsic is an error, so a template the runtime cannot honour says so.
 */
export interface LocalResource {
  /** What Ref returns (a table name, a queue URL, a topic ARN, a function name). */
  ref: string;
  /** What Fn::GetAtt returns, by attribute name (Arn, StreamArn, QueueUrl...). */
  attributes: Record<string, string>;
}

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '000000000000';
/** The credentials of everything local: the emulators take them, and /admin requests are signed with them. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

const PSEUDO: Record<string, string> = {
  'AWS::Region': LOCAL_REGION,
  'AWS::AccountId': LOCAL_ACCOUNT,
  'AWS::Partition': 'aws',
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': 'WaitingRoomLocal',
  'AWS::NoValue': '',
};

export class UnresolvableError extends Error {
  override name = 'UnresolvableError';
}

export function resolve(value: unknown, resources: ReadonlyMap<string, LocalResource>): unknown {
  if (Array.isArray(value)) return value.map((v) => resolve(v, resources));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 1) {
    const [key, arg] = entries[0]!;
    switch (key) {
      case 'Ref': {
        const name = String(arg);
        if (name in PSEUDO) return PSEUDO[name];
        const resource = resources.get(name);
        if (!resource) throw new UnresolvableError(`Ref to ${name}, which the local runtime did not create`);
        return resource.ref;
      }
      case 'Fn::GetAtt': {
        const [logicalId, attribute] = Array.isArray(arg) ? (arg as string[]) : String(arg).split('.');
        const found = resources.get(String(logicalId))?.attributes[String(attribute)];
        if (found === undefined) throw new UnresolvableError(`Fn::GetAtt ${logicalId}.${attribute} is not known locally`);
        return found;
      }
      case 'Fn::Join': {
        const [separator, parts] = arg as [string, unknown[]];
        return (resolve(parts, resources) as unknown[]).map(String).join(separator);
      }
      case 'Fn::Select': {
        const [index, list] = arg as [number | string, unknown];
        return (resolve(list, resources) as unknown[])[Number(index)];
      }
      case 'Fn::Split': {
        const [separator, source] = arg as [string, unknown];
        return String(resolve(source, resources)).split(separator);
      }
      case 'Fn::Sub': {
        const [template, variables] = Array.isArray(arg) ? (arg as [string, Record<string, unknown>]) : [String(arg), {}];
        return template.replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
          if (name in variables) return String(resolve(variables[name], resources));
          if (name in PSEUDO) return PSEUDO[name]!;
          const [logicalId, attribute] = name.split('.');
          return String(resolve(attribute ? { 'Fn::GetAtt': [logicalId, attribute] } : { Ref: logicalId }, resources));
        });
      }
      default:
        if (key.startsWith('Fn::')) throw new UnresolvableError(`${key} is not supported by the local runtime`);
    }
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, resolve(v, resources)]));
}
