/**
 * Turns the intrinsic functions of a synthesized template into the strings CloudFormation would
 * make of them, with a made-up account: enough to evaluate a policy or an event pattern the way
 * AWS does, rather than compare its JSON.
 */

export const ACCOUNT = '111122223333';
export const REGION = 'eu-west-1';

/** What `Ref` and `Fn::GetAtt` of each logical id give, for the resource types the tests evaluate. */
export type Physical = (logicalId: string, attribute: string | undefined) => string;

/** Roles and buckets as ARNs named after their logical ids; anything else by `physical`. */
export function defaultPhysical(resources: Record<string, { Type: string }>, extra?: Partial<Record<string, string>>): Physical {
  return (id, attribute) => {
    const given = extra?.[attribute ? `${id}.${attribute}` : id];
    if (given !== undefined) return given;
    const type = resources[id]?.Type;
    if (type === 'AWS::IAM::Role' && attribute === 'Arn') return `arn:aws:iam::${ACCOUNT}:role/${id}`;
    if (type === 'AWS::IAM::User' && attribute === 'Arn') return `arn:aws:iam::${ACCOUNT}:user/${id}`;
    if (type === 'AWS::S3::Bucket' && attribute === 'Arn') return `arn:aws:s3:::${id.toLowerCase()}`;
    if (type === 'AWS::S3::Bucket' && attribute === undefined) return id.toLowerCase();
    throw new Error(`no physical value for ${id}${attribute ? `.${attribute}` : ''} (${type ?? 'not in the template'})`);
  };
}

/** The value with every `Ref`, `Fn::GetAtt`, `Fn::Join`, `Fn::Split` and `Fn::Select` evaluated. */
export function render(value: unknown, physical: Physical): unknown {
  if (Array.isArray(value)) return value.map((v) => render(v, physical));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 1) {
    const [fn, arg] = entries[0];
    const args = arg as unknown[];
    switch (fn) {
      case 'Ref': {
        const name = arg as string;
        if (name === 'AWS::Partition') return 'aws';
        if (name === 'AWS::Region') return REGION;
        if (name === 'AWS::AccountId') return ACCOUNT;
        if (name === 'AWS::URLSuffix') return 'amazonaws.com';
        return physical(name, undefined);
      }
      case 'Fn::GetAtt':
        return physical(args[0] as string, args[1] as string);
      case 'Fn::Join':
        return (render(args[1], physical) as string[]).join(args[0] as string);
      case 'Fn::Split':
        return (render(args[1], physical) as string).split(args[0] as string);
      case 'Fn::Select':
        return (render(args[1], physical) as string[])[args[0] as number];
    }
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, render(v, physical)]));
}

/** IAM's `*` and `?` wildcards (StringLike, ArnLike, resource ARNs). */
export function wildcardMatch(pattern: string, value: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return re.test(value);
}
