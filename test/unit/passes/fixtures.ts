/** Shared fixtures for the admission-pass tests: a JWKS served over local HTTP, key sets, passes. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PassKeySource } from '../../../lambdas/adapters/pass-key-sources.js';
import type { PassJwks, PassKeySet } from '../../../lambdas/domain/passes/pass-keys.js';

export const ROOM = 'shop';
export const TOKEN_ID = 'tok0000000000000000001';

/** A key source whose key set the test swaps (a rotation). */
export class MutableKeySource implements PassKeySource {
  reads = 0;
  constructor(public keySet: PassKeySet) {}
  async getKeySet(): Promise<PassKeySet> {
    this.reads += 1;
    return this.keySet;
  }
}

export interface JwksServer {
  url: string;
  /** How many times the JWKS was fetched. */
  hits(): number;
  set(body: PassJwks | { status: number }): void;
  close(): Promise<void>;
}

/** Serves a JWKS on 127.0.0.1, on a free port. */
export async function startJwksServer(initial: PassJwks): Promise<JwksServer> {
  let body: PassJwks | { status: number } = initial;
  let hits = 0;
  const server: Server = createServer((req, res) => {
    hits += 1;
    if ('status' in body) {
      res.writeHead(body.status, { 'Content-Type': 'application/json' }).end('{}');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    hits: () => hits,
    set: (next) => {
      body = next;
    },
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}

/** Splits a compact JWS and re-joins it after `change` edits its parts. */
export function editJws(jws: string, change: (parts: { header: string; payload: string; signature: string }) => void): string {
  const [header = '', payload = '', signature = ''] = jws.split('.');
  const parts = { header, payload, signature };
  change(parts);
  return `${parts.header}.${parts.payload}.${parts.signature}`;
}

export const b64json = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
export const unb64json = (text: string) => JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Record<string, unknown>;
