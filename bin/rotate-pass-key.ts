/**
 * Rotates the admission-pass signing key stored in a Secrets Manager secret, from an
 * administrator's machine (credentials from the usual AWS chain: profile, SSO, env).
 *
 *   npx tsx bin/rotate-pass-key.ts --secret-arn <arn> [--region <region>] [--init]
 *
 * Prints `{ kid, nextKid, previousKids, prepublished, initialized }` as JSON. Keys are never printed.
 *
 * The key that starts signing is the key set's `next`, published in the JWKS since the previous
 * rotation; a fresh `next` is published for the rotation after. Rotate at most once every
 * 16 minutes (`MIN_PASS_KEY_ROTATION_INTERVAL_SECONDS`): that is how long a published key takes
 * to reach every origin's JWKS cache (see the timeline in lambdas/domain/passes/pass-keys.ts).
 */
import { parseArgs } from 'node:util';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { rotateKeySetSecret } from '../lambdas/adapters/pass-key-sources.js';
import { MIN_PASS_KEY_ROTATION_INTERVAL_SECONDS } from '../lambdas/domain/passes/pass-keys.js';

const MIN_INTERVAL_MINUTES = MIN_PASS_KEY_ROTATION_INTERVAL_SECONDS / 60;

const USAGE = `Usage: npx tsx bin/rotate-pass-key.ts --secret-arn <arn> [--region <region>] [--init]

Rotates the waiting room's admission-pass signing key (ES256) held in a Secrets Manager secret.
The key set's next key, published in /.well-known/jwks.json since the previous rotation, signs
passes once the functions' key cache expires (up to 5 minutes), and a fresh next key is published.
The previous public keys stay in the JWKS so passes they signed keep verifying until they expire.
Rotate at most once every ${MIN_INTERVAL_MINUTES} minutes, so that every origin knows a key before it signs.

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
  const nextKid = result.nextKid ?? '(none)';
  let summary: string;
  if (result.initialized) {
    summary = `Wrote a fresh key set: kid ${result.kid} signs, kid ${nextKid} is published for the next rotation.`;
  } else {
    summary =
      `Rotated: passes are signed with kid ${result.kid} within 5 minutes. Kid ${nextKid} is published for the next rotation.` +
      ` Still verifying: ${result.previousKids.join(', ')}. Do not rotate again within ${MIN_INTERVAL_MINUTES} minutes.`;
    if (!result.prepublished) {
      summary +=
        `\nNote: the key set had no next key (written before next keys existed), so kid ${result.kid} was not published ahead:` +
        ` origins may refuse its passes until a refetch of the JWKS finds it (up to about 6 minutes: JWKS function cache and max-age).` +
        ' Later rotations do not have this gap.';
    }
  }
  process.stderr.write(`${summary}\n`);
}

main().catch((error: unknown) => {
  const e = error as Error;
  process.stderr.write(`rotate-pass-key failed: ${e.name}: ${e.message}\n`);
  process.exit(1);
});
