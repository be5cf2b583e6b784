/**
 * Rotates the admission-pass signing key stored in a Secrets Manager secret, from an
 * administrator's machine (credentials from the usual AWS chain: profile, SSO, env).
 *
 *   npx tsx bin/rotate-pass-key.ts --secret-arn <arn> [--region <region>] [--init]
 *
 * Prints `{ kid, previousKids, initialized }` as JSON. Keys are never printed.
 */
import { parseArgs } from 'node:util';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { rotateKeySetSecret } from '../lambdas/adapters/pass-key-sources.js';

const USAGE = `Usage: npx tsx bin/rotate-pass-key.ts --secret-arn <arn> [--region <region>] [--init]

Rotates the waiting room's admission-pass signing key (ES256) held in a Secrets Manager secret.
The new key signs passes once the functions' key cache expires (up to 5 minutes); the previous
public keys stay in /.well-known/jwks.json so passes they signed keep verifying until they expire.

Options:
  --secret-arn <arn>  ARN (or name) of the secret holding the key set (the stack output)
  --region <region>   AWS region (default: from the ARN, else AWS_REGION / your profile)
  --init              if the secret holds no valid key set yet, write a fresh one
  -h, --help          show this help`;

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: {
        'secret-arn': { type: 'string' },
        region: { type: 'string' },
        init: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    return fail((error as Error).message);
  }
}

async function main(): Promise<void> {
  const args = parse(process.argv.slice(2));
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const secretArn = args['secret-arn']?.trim();
  if (!secretArn) fail('Missing --secret-arn');
  const regionFromArn = /^arn:[^:]+:secretsmanager:([^:]+):/.exec(secretArn)?.[1];
  const region = args.region ?? regionFromArn;
  const client = new SecretsManagerClient(region ? { region } : {});
  const result = await rotateKeySetSecret(client, secretArn, { initialize: args.init });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  process.stderr.write(
    result.initialized
      ? `Wrote a fresh key set (kid ${result.kid}).\n`
      : `Rotated: passes are signed with kid ${result.kid} within 5 minutes; ${result.previousKids.join(', ')} still verify.\n`,
  );
}

main().catch((error: unknown) => {
  const e = error as Error;
  process.stderr.write(`rotate-pass-key failed: ${e.name}: ${e.message}\n`);
  process.exit(1);
});
