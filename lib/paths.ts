import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The repository root, from which handler entries and the lock file are resolved. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Metadata key on each Lambda function's template resource: its TypeScript entry, relative to the repo. */
export const ENTRY_METADATA = 'WaitingRoom:Entry';

/** Metadata key telling the local runtime to leave a function out ('skip'), e.g. one that manages AWS-only resources. */
export const LOCAL_RUNTIME_METADATA = 'WaitingRoom:LocalRuntime';
