/**
 * The local edge (issue 9, item 4): the gate's distribution in front of a demo site, on this
 * machine, with the code CloudFront runs. `startLocalRuntime({ edge: {} })` starts it once the API
 * listens (and `npm start` by default, on EDGE_PORT):
 *
 *   http://127.0.0.1:<edge>/          the distribution (distribution.ts): the gate function, the
 *                                     route function, the page bucket, the status cache
 *   http://127.0.0.1:<origin>/        the demo origin (demo-origin.ts), which counts what reaches it
 *
 * The API's functions sign the edge passes with the run's key set (keys.ts), which the runtime
 * put in their environment before loading them; the gate reads the same keys from its
 * KeyValueStore (a Map), and the origin checks them again on its own.
 */
import net from 'node:net';
import type { EdgePassKeySet } from '../../lambdas/shared/edge-passes.js';
import type { GateConfig, GateRoom } from '../../edge/gate-code.js';
import { StartupError } from '../emulators.js';
import type { WebAssets } from '../web-assets.js';
import { startDemoOrigin, type DemoOrigin } from './demo-origin.js';
import { LocalDistribution } from './distribution.js';
import { localGateConfig } from './gate-config.js';
import type { LocalEdgeKeys } from './keys.js';
import { pageBucket } from './page-bucket.js';

/** The runtime's `edge` option. */
export interface LocalEdgeSettings {
  /** The edge's port on 127.0.0.1; 0 picks a free one. @default 0 */
  readonly port?: number;
  /** The rooms and the paths each protects. @default the first local room on `/*`, any other on `/<roomId>/*` */
  readonly rooms?: readonly GateRoom[];
}

export interface LocalEdge {
  /** The edge's base URL, without a final "/" (like the runtime's `url`). */
  readonly url: string;
  readonly port: number;
  /** What the gate function was given. */
  readonly config: GateConfig;
  /** The run's edge-pass keys (tests mint passes with them). */
  readonly keys: EdgePassKeySet;
  /** The gate's KeyValueStore: change it to play a rotation. */
  readonly kvs: Map<string, string>;
  readonly origin: DemoOrigin;
  stop(): Promise<void>;
}

export interface StartLocalEdgeOptions {
  readonly port: number;
  readonly rooms: readonly GateRoom[];
  readonly keys: LocalEdgeKeys;
  /** The local API gateway's port. */
  readonly apiPort: number;
  /** The runtime's build of web/. */
  readonly web: WebAssets;
  readonly onError?: (message: string, error: unknown) => void;
}

/** The message when the edge's port is taken, as for PORT. */
const edgePortInUse = (port: number) => `Port ${port} (EDGE_PORT) is already in use: set EDGE_PORT to a free port (0 picks one)`;

/** Fails at once, in one line, when the edge's port is taken (before the emulators start). */
export async function assertEdgePortFree(port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new StartupError(error.code === 'EADDRINUSE' ? edgePortInUse(port) : `Cannot listen on port ${port} (EDGE_PORT): ${error.message}`)),
    );
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}

export async function startLocalEdge(options: StartLocalEdgeOptions): Promise<LocalEdge> {
  const config = localGateConfig(options.rooms, options.keys.issuer);
  const origin = await startDemoOrigin({ config, kvs: options.keys.kvs });
  const distribution = new LocalDistribution({
    config,
    kvs: options.keys.kvs,
    apiPort: options.apiPort,
    originPort: origin.port,
    bucket: pageBucket(options.web),
    ...(options.onError ? { onError: options.onError } : {}),
  });
  let port: number;
  try {
    port = await distribution.listen(options.port);
  } catch (error) {
    await origin.close();
    throw (error as NodeJS.ErrnoException).code === 'EADDRINUSE' ? new StartupError(edgePortInUse(options.port)) : error;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    config,
    keys: options.keys.set,
    kvs: options.keys.kvs,
    origin,
    stop: async () => {
      await distribution.close();
      await origin.close();
    },
  };
}
