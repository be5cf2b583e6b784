/**
 * The CLI's exit codes, which scripts can rely on (README, "Operating it"):
 *
 * | code | meaning |
 * |---|---|
 * | 0 | done |
 * | 1 | an unexpected failure (a bug, or an answer the CLI did not understand) |
 * | 2 | bad usage, or input the API refused (400, 409) |
 * | 3 | no such room |
 * | 4 | no credentials, or not allowed (401, 403) |
 * | 5 | the API cannot be reached, or is failing (5xx, throttled) |
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, notFound: 3, denied: 4, unreachable: 5 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure the CLI explains in one line and ends with its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    /** The API's error code, when the API answered one (in --json output). */
    readonly code?: string,
  ) {
    super(message);
  }
}
